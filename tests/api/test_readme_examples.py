"""Every GraphQL example in README.md runs as written against the demo data (`matchgraph serve --demo`).

The examples' placeholders ("…") are filled with ids from the demo data, chosen by the field and argument they
stand for; everything else is sent exactly as the README shows it. An example that stops working (a renamed
field, a rule that now refuses it, demo data that no longer fits) fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from graphql import OperationDefinitionNode, StringValueNode, parse, print_ast, visit
from graphql.language import Visitor
from sqlalchemy import text

from graphql_app.demo.seed import seed_demo
from tests.conftest import GraphQLClient

README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDER = "…"
MEMBER_FIELDS = {"memberMatches", "setMatchInterest", "submitPlacementFeedback"}
#: Root fields computed in Python (scoring the catalogue now, embedding the search text): no SQL plan can answer
#: them. Every other query of the README is answered by a compiled plan.
COMPUTED_FIELDS = {"liveGrantMatches", "searchGrants"}


def readme_operations() -> list[OperationDefinitionNode]:
    """Operations of the ```graphql blocks and of the table's inline examples, in README order."""
    readme = README.read_text()
    sources = [(m.start(), m.group(1)) for m in re.finditer(r"```graphql\n(.*?)```", readme, re.S)]
    sources += [
        (m.start(), m.group(1)) for m in re.finditer(r"^\|[^|\n]*\| `((?:\{|query|mutation)[^`]*)`", readme, re.M)
    ]
    operations = []
    for _, source in sorted(sources):
        operations += [d for d in parse(source).definitions if isinstance(d, OperationDefinitionNode)]
    return operations


async def demo_ids(services) -> dict[str, str]:
    async with services.db.reader() as conn:
        row = (
            await conn.execute(
                text(
                    """
            SELECT c.id AS company, gm.id AS grant_match,
                   (SELECT id FROM jobs WHERE tenant_id = 'acme-ventures' ORDER BY created_at LIMIT 1) AS job,
                   (SELECT id FROM job_matches WHERE tenant_id = 'acme-ventures' AND status = 'PENDING_REVIEW'
                     ORDER BY belonging_probability DESC LIMIT 1) AS pending_job_match,
                   (SELECT id FROM job_matches WHERE tenant_id = 'acme-ventures' AND status = 'PLACED') AS placed,
                   (SELECT member_id FROM job_matches WHERE tenant_id = 'acme-ventures' AND status = 'PLACED')
                     AS member
            FROM companies c JOIN grant_matches gm ON gm.company_id = c.id
            WHERE c.tenant_id = 'acme-ventures' ORDER BY c.name, gm.score DESC LIMIT 1"""
                )
            )
        ).one()
    return {key: str(value) for key, value in row._mapping.items()}


def filled(operation: OperationDefinitionNode, ids: dict[str, str], computation_id: str | None) -> str:
    """The operation's text with each placeholder replaced by the id its field and argument ask for."""
    by_argument = {
        "companyId": ids["company"],
        "jobId": ids["job"],
        "memberId": ids["member"],
    }
    by_field = {
        "applyGrantMatchAction": ids["grant_match"],
        "updateJobMatchStatus": ids["pending_job_match"],
        "recordPlacementOutcome": ids["pending_job_match"],
        "setMatchInterest": ids["placed"],
        "submitPlacementFeedback": ids["placed"],
        "computation": computation_id,
    }

    class Fill(Visitor):
        def enter_field(self, node, *_):
            self.field = node.name.value

        def enter_argument(self, node, *_):
            if isinstance(node.value, StringValueNode) and node.value.value == PLACEHOLDER:
                value = by_field.get(self.field) or by_argument.get(node.name.value)
                assert value, f"no demo id for {self.field}({node.name.value}: …)"
                return node.__class__(name=node.name, value=StringValueNode(value=value))
            return None

    return print_ast(visit(operation, Fill()))


def root_fields(operation: OperationDefinitionNode) -> set[str]:
    return {selection.name.value for selection in operation.selection_set.selections}


async def test_every_readme_example_runs_on_the_demo_data(services, http, worker):
    tokens = await seed_demo(services, grant_count=60, company_count=16)
    ids = await demo_ids(services)
    operations = readme_operations()
    assert len(operations) >= 15, "the README's examples were not found"
    organisation = GraphQLClient(http, tokens["acme-ventures"]["ORG_ADMIN"])
    member = GraphQLClient(http, tokens["acme-ventures"]["MEMBER"])
    platform = GraphQLClient(http, tokens["acme-ventures"]["PLATFORM_ADMIN"])
    variables = {
        "companyId": ids["company"],
        "after": None,
        "me": ids["member"],
        "g": [{"title": "A call imported from the README"}],
    }
    plans = http._transport.app.state.compiled_queries  # the app behind the `http` fixture
    computation_id = None
    for operation in operations:
        fields = root_fields(operation)
        client = member if fields & MEMBER_FIELDS else platform if "createGrants" in fields else organisation
        document = filled(operation, ids, computation_id)
        names = {d.variable.name.value for d in operation.variable_definitions or ()}
        served = plans.served
        body = await client.execute(document, {name: variables[name] for name in names})
        assert not body.get("errors"), f"{document}\n→ {body['errors']}"
        if operation.operation.value == "query" and not fields & COMPUTED_FIELDS:
            assert plans.served == served + 1, f"not answered by a compiled plan:\n{document}"
        for value in body["data"].values():
            if isinstance(value, dict) and value.get("status") == "QUEUED":
                computation_id = value["id"]
