"""`matchgraph token` mints tokens the running server accepts, or says why it cannot."""

from __future__ import annotations

import jwt

from tests.processes import process_env, run_matchgraph


def test_token_refuses_to_invent_a_secret_no_server_uses(tmp_path):
    data_dir = tmp_path / "elsewhere"
    result = run_matchgraph(
        "token", "--tenant", "acme-ventures", "--role", "ORG_ADMIN", env=process_env(MATCHGRAPH_DATA_DIR=str(data_dir))
    )
    assert result.returncode == 1
    assert "no development secret" in result.stderr and str(data_dir / "jwt-secret") in result.stderr
    assert not data_dir.exists()


def test_token_is_signed_with_the_servers_secret(tmp_path):
    (tmp_path / "jwt-secret").write_text("the-servers-secret-" + "x" * 40)
    result = run_matchgraph(
        "token", "--tenant", "acme-ventures", "--role", "ORG_ADMIN", env=process_env(MATCHGRAPH_DATA_DIR=str(tmp_path))
    )
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), "the-servers-secret-" + "x" * 40, algorithms=["HS256"])
    assert claims["tenant_id"] == "acme-ventures" and claims["roles"] == ["ORG_ADMIN"]
