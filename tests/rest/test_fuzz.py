"""Property-based fuzzing of the REST adapters from their OpenAPI document (schemathesis): every operation gets
generated parameters and bodies that fit the document, with random ids and with the ids of real objects, and
bodies and parameters that do not; no answer may be a 5xx or disagree with the document (status codes, content
types, response schemas)."""

from __future__ import annotations

import asyncio

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import token_for

#: Cases per operation and mode (random ids, real ids, invalid input): about 20 operations × 3 × this many requests.
CASES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


async def test_fuzzing_finds_no_server_error_and_no_answer_outside_the_document(http, grant_world, talent_world):
    document = (await http.get("/api/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    real_ids = {
        "grants": {
            "company_id": grant_world.company_id,
            "grant_id": grant_world.grant_ids[0],
            "match_id": grant_world.match_ids[0],
        },
        "talent": {
            "match_id": talent_world.match_id,
            "job_id": talent_world.job_id,
            "member_id": talent_world.member_id,
        },
    }
    loop = asyncio.get_running_loop()

    def send(case, token: str) -> httpx.Response:
        """Runs in the fuzzing thread; the request itself runs on the test's loop (where the app's pools live)."""
        kwargs = case.as_transport_kwargs(base_url=str(http.base_url).rstrip("/"))
        request = http.request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            json=kwargs.get("json"),
            content=kwargs.get("data"),
        )
        return asyncio.run_coroutine_threadsafe(request, loop).result(timeout=120)

    sent = 0

    def run(strategy, token: str, checks: list) -> None:
        @given(case=strategy)
        @settings(max_examples=CASES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            nonlocal sent
            response = send(case, token)
            sent += 1
            case.validate_response(response, checks=checks)

        check()

    def fuzz() -> None:
        for result in schema.get_all_operations():
            operation = result.ok()
            names = {param.name for param in operation.path_parameters}
            fixed = {
                name: value for name, value in real_ids[operation.definition.raw["tags"][0]].items() if name in names
            }
            # A caller per operation: each has its own budget of expensive operations (else the later operations
            # would only meet 429).
            token = token_for("tenant-a", ("ORG_ADMIN",))
            run(operation.as_strategy(), token, CHECKS)
            run(operation.as_strategy(path_parameters=fixed), token, CHECKS)
            negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=fixed)
            run(negative, token, [not_a_server_error, status_code_conformance, content_type_conformance])

    await asyncio.to_thread(fuzz)
    assert sent >= len(document["paths"]) * CASES
