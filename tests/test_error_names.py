"""Services key their errors by Python names, their own arguments' (STYLE, "Which way imports
point"); the JSON API alone turns them into camelCase. Every field name written as a literal
in a domain package is read with `ast`: `ValidationFailed.on("x", …)`, `field="x"`,
`fields={"x": …}` and `errors["x"] = …` (also `problems`, `fields`; f-strings by their text)."""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from tests.test_architecture import DOMAIN_ORDER, NOTIFICATIONS, PACKAGE_ROOT, PROVIDERS

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
