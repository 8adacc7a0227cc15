"""The layering the code relies on, checked on its source: access rules in one module, thin resolvers, and no
import circles but the natural ones between GraphQL types."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("graphql_app", "resolvers", "schema", "bench")

#: Conditions that decide which rows a viewer sees: on tenants, members, requesters, open deadlines. They belong
#: in graphql_app/access.py; elsewhere code calls its functions.
RULE_PATTERNS = [
    re.compile(r"tenant_id\s*(==|!=)"),
    re.compile(r"tenant_id\s*=\s*[:$%]"),  # in SQL text
    re.compile(r"member_id\s*(==|!=)\s*\w*\.?(member_id|viewer|principal)"),
    re.compile(r"requested_by\s*(==|!=)"),
    re.compile(r"deadline\s*(>=|<)\s*\S*now", re.IGNORECASE),
    re.compile(r"\.c\.is_open\b"),
]
#: Where such conditions may appear besides access.py: table definitions and migrations define the columns.
RULE_EXEMPT = {"graphql_app/access.py", "graphql_app/db/models.py"}


def source_files(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def test_visibility_rules_are_written_only_in_the_access_module():
    found = []
    for path in source_files("graphql_app", "resolvers", "schema"):
        relative = path.relative_to(ROOT).as_posix()
        if relative in RULE_EXEMPT:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if any(pattern.search(line) for pattern in RULE_PATTERNS):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "access rules outside graphql_app/access.py:\n" + "\n".join(found)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any level of the file (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_resolvers_touch_no_tables_and_no_sql():
    offending = []
    for path in source_files("resolvers"):
        for name in imported_modules(path):
            if name.startswith(("graphql_app.db", "sqlalchemy")):
                offending.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offending, "\n".join(offending)


def test_the_rest_adapters_touch_no_tables_and_no_sql():
    """The REST layer maps arguments and results around stored GraphQL documents; data access and business rules
    stay behind the GraphQL schema (services, access)."""
    offending = []
    for path in source_files("graphql_app/rest"):
        for name in imported_modules(path):
            if name.startswith(
                ("graphql_app.db", "graphql_app.services", "graphql_app.access", "sqlalchemy", "asyncpg")
            ):
                offending.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offending, "\n".join(offending)


def module_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports; importing ``a.b.c`` also runs ``a`` and ``a.b``."""
    modules: dict[str, Path] = {}
    for path in source_files(*PACKAGES):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imported in imported_modules(path):
            target = imported
            while target and target not in modules:
                target = target.rpartition(".")[0]
            while target:
                if target != name and target in modules and not name.startswith(target + "."):
                    graph[name].add(target)
                target = target.rpartition(".")[0]
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circles_but_between_graphql_types():
    """GraphQL types refer to each other (`Company.grantMatches` ↔ `GrantMatch.company`), lazily; any other
    circle — also one hidden behind a function-level import — is a layering mistake."""
    unnatural = [c for c in circles(module_graph()) if not all(m.startswith("schema.types.") for m in c)]
    assert not unnatural, unnatural


def test_the_graph_sees_circles():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_benches_do_not_import_the_tests():
    offending = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in source_files("bench")
        for name in imported_modules(path)
        if name == "tests" or name.startswith("tests.")
    ]
    assert not offending, offending
