"""Which way imports point (README, "Project layout"; STYLE, "Which way imports point").

Every file under checkie/ is read with `ast`, whole: imports inside functions count, and so do
`importlib.import_module("…")` calls with a literal name. A function-level import that only
dodges a cycle is still a cycle here. The same walker reads tests/: a test module or a conftest
is never imported by another module (shared helpers live in modules of their own)."""
from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "checkie"
TESTS_ROOT = PACKAGE_ROOT.parent / "tests"

#: The domain line: each package imports only those to its left.
DOMAIN_ORDER = ("accounts", "stores", "webhooks", "catalog", "customers", "checkout", "payments", "subscriptions")
#: Below every domain package: it records emails for all of them and imports none.
NOTIFICATIONS = "notifications"
#: A pure adapter for PSPs, below the domain packages: handed what it needs, it imports none.
PROVIDERS = "providers"
AUDIENCES = frozenset({"dashboard", "storefront", "portal", "api", "ops"})
#: Root modules that wire the app together and so may import anything.
COMPOSITION = frozenset({"checkie", "checkie.cli", "checkie.worker", "checkie.models"})
#: Every root module that is not composition: below the domain packages.
ROOT = "root"
APP = "app"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool, root: str = "checkie") -> set[str]:
    """Every module of the `root` package `source` imports, wherever the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package=is_package)
            # `from checkie import inputs` imports the module checkie.inputs, not the package's
            # own code; `from checkie import create_app` names checkie.create_app (the app).
            if base != root:
                found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif _is_import_module_call(node):
            found.add(node.args[0].value)
    return {name for name in found if name == root or name.startswith(f"{root}.")}


def _absolute(node: ast.ImportFrom, module: str, *, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_import_module_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not node.args:
        return False
    name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
    first = node.args[0]
    return name == "import_module" and isinstance(first, ast.Constant) and isinstance(first.value, str)


def layer_of(name: str) -> str:
    """Where a checkie module (or a name in one: `from checkie.x import f` gives checkie.x.f)
    belongs: a subpackage's name, ROOT, or APP for composition and the package's own names."""
    if any(name == module or name.startswith(module + ".") for module in COMPOSITION - {"checkie"}):
        return APP
    parts = name.split(".")
    if len(parts) > 1 and (PACKAGE_ROOT / parts[1]).is_dir():
        return parts[1]
    if len(parts) > 1 and (PACKAGE_ROOT / f"{parts[1]}.py").is_file():
        return ROOT
    return APP


def import_graph() -> dict[str, dict[str, set[str]]]:
    """{importing package: {imported package: the files whose imports make that edge}}."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        module = module_name(path)
        source_layer = layer_of(module)
        for imported in imported_modules(path.read_text(), module, is_package=path.name == "__init__.py"):
            target = layer_of(imported)
            if target != source_layer:
                graph[source_layer][target].add(str(path.relative_to(PACKAGE_ROOT.parent)))
    return graph


def allowed_imports(layer: str) -> frozenset[str] | None:
    """The packages `layer` may import; None when it may import anything."""
    below_domains = frozenset({ROOT, NOTIFICATIONS, PROVIDERS})
    if layer in DOMAIN_ORDER:
        return below_domains | frozenset(DOMAIN_ORDER[: DOMAIN_ORDER.index(layer)])
    if layer == NOTIFICATIONS or layer == PROVIDERS or layer == ROOT:
        return frozenset({ROOT})
    return None


def find_cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """One cycle per strongly connected group of packages (Tarjan), each as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def _describe(graph, source: str, targets) -> list[str]:
    return [f"{source} -> {target} ({', '.join(sorted(graph[source][target]))})" for target in sorted(targets)]


def test_no_package_cycles(graph):
    assert find_cycles(graph) == []


def test_no_domain_package_or_root_module_imports_an_audience(graph):
    lower = (*DOMAIN_ORDER, NOTIFICATIONS, PROVIDERS, ROOT)
    wrong = [line for source in lower for line in _describe(graph, source, AUDIENCES & set(graph.get(source, {})))]
    assert wrong == []


def test_providers_import_no_domain_package(graph):
    domain = {*DOMAIN_ORDER, NOTIFICATIONS}
    assert _describe(graph, PROVIDERS, domain & set(graph.get(PROVIDERS, {}))) == []


def test_every_import_follows_the_declared_order(graph):
    wrong = []
    for source in graph:
        allowed = allowed_imports(source)
        if allowed is not None:
            wrong += _describe(graph, source, set(graph[source]) - allowed)
    assert wrong == []


# ---------------------------------------------------------------- tests/


def names_a_test_module(name: str) -> bool:
    """A `test_*` module (pytest collects it: importing it elsewhere couples two test files and
    may run its module-level set-up twice) or a conftest (pytest loads it itself), or a name in one."""
    return any(part.startswith("test_") or part == "conftest" for part in name.split(".")[1:])


def test_no_module_under_tests_imports_a_test_module_or_a_conftest():
    wrong = []
    for path in sorted(TESTS_ROOT.rglob("*.py")):
        module = module_name(path)
        imported = imported_modules(path.read_text(), module, is_package=path.name == "__init__.py", root="tests")
        wrong += [f"{module} imports {name}" for name in sorted(imported) if names_a_test_module(name)]
    assert wrong == []


# ---------------------------------------------------------------- the walker itself


def test_the_walker_sees_function_level_relative_and_importlib_imports():
    source = '''
import importlib
from checkie import money

def later():
    from checkie.payments import outcomes
    return importlib.import_module("checkie.stores.services")

class Thing:
    def method(self):
        from .models import Page
'''
    found = imported_modules(source, "checkie.catalog.pages", is_package=False)
    assert {"checkie.money", "checkie.payments", "checkie.stores.services", "checkie.catalog.models"} <= found


def test_a_cycle_and_a_wrong_way_import_are_reported():
    graph = {"checkout": {"payments": {"a.py"}}, "payments": {"checkout": {"b.py"}}, "accounts": {"stores": {"c.py"}}}
    assert find_cycles(graph) == [["checkout", "payments"]]
    assert "stores" not in allowed_imports("accounts")
    assert "dashboard" not in allowed_imports(ROOT) and allowed_imports("api") is None


def test_the_walker_sees_test_modules_and_conftests_however_they_are_imported():
    source = '''
import tests.api.test_openapi_contract as contract
from tests.browser import conftest
from tests import factories

def later():
    from .test_ledger import assert_ledger_consistent
'''
    found = imported_modules(source, "tests.payments.test_outcomes", is_package=False, root="tests")
    flagged = {name for name in found if names_a_test_module(name)}
    assert {"tests.api.test_openapi_contract", "tests.browser.conftest", "tests.payments.test_ledger"} <= flagged
    assert "tests.factories" in found and not names_a_test_module("tests.factories")
    assert not names_a_test_module("tests.browser.chromium") and names_a_test_module("tests.conftest.TEST_APP_SETTINGS")


# ---------- errors keyed by Python names ----------
# Services key their errors by their own arguments' names (STYLE, "Which way imports point"); the
# JSON API alone turns them into camelCase. Every field name written as a literal in a domain
# package is read: `ValidationFailed.on("x", …)`, `field="x"`, `fields={"x": …}` and
# `errors["x"] = …` (also `problems`, `fields`; f-strings by their text).

CAMEL_CASE = re.compile(r"[a-z][A-Z]")
ERROR_DICTS = frozenset({"errors", "problems", "fields"})


def _text(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value for part in node.values if isinstance(part, ast.Constant))
    return None


def _named_fields(node: ast.AST) -> Iterator[ast.expr | None]:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "on" and getattr(func.value, "id", "") == "ValidationFailed":
            yield from node.args[:1]
        for keyword in node.keywords:
            if keyword.arg == "field":
                yield keyword.value
            elif keyword.arg == "fields" and isinstance(keyword.value, ast.Dict):
                yield from keyword.value.keys
    elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and getattr(node.value, "id", "") in ERROR_DICTS:
        yield node.slice


def error_names() -> Iterator[tuple[str, str]]:
    """(file:line, name) for every literal error field name in the domain packages."""
    for package in (*DOMAIN_ORDER, NOTIFICATIONS, PROVIDERS):
        for path in sorted((PACKAGE_ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                for name in filter(None, map(_text, _named_fields(node))):
                    yield f"{path.relative_to(PACKAGE_ROOT.parent)}:{getattr(node, 'lineno', 0)}", name


def test_domain_packages_name_error_fields_in_python():
    names = list(error_names())
    assert {"trial_days", "custom_fields.", "coupon_code"} <= {name for _, name in names}  # the walk sees them
    assert [f"{where}: {name}" for where, name in names if CAMEL_CASE.search(name)] == []
