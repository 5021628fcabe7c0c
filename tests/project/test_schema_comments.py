"""docs/design.md: "every hyperparameter has a one-line comment in the schema". Every field of
every dataclass in curiosity/config.py and curiosity/envs/schema.py has a comment on its own
line or on the line just before it."""

from __future__ import annotations

import ast
import inspect
import io
import tokenize

import pytest

import curiosity.config
import curiosity.envs.schema

MODULES = (curiosity.config, curiosity.envs.schema)


def _comment(line: str) -> str | None:
    """The text of ``line``'s ``#`` comment, or None (a ``#`` inside a string literal, as in
    ``"#"`` defaults, is not a comment: the tokenizer decides; a line that opens a bracket it
    does not close still yields the comment before the tokenizer gives up)."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline):
            if tok.type == tokenize.COMMENT:
                return tok.string.lstrip("#").strip() or None
    except (tokenize.TokenError, SyntaxError):
        pass
    return None


def _is_dataclass_def(node: ast.ClassDef) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name == "dataclass":
            return True
    return False


def undocumented_fields(module) -> list[str]:
    """``Class.field (module:line)`` for each dataclass field with no comment on its line or
    on the line before."""
    lines = inspect.getsource(module).splitlines()
    missing = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not (isinstance(node, ast.ClassDef) and _is_dataclass_def(node)):
            continue
        for stmt in node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            row = stmt.lineno - 1  # 0-based
            own = _comment(lines[row])
            before = _comment(lines[row - 1]) if lines[row - 1].lstrip().startswith("#") else None
            if own is None and before is None:
                missing.append(f"{node.name}.{stmt.target.id} ({module.__name__}:{stmt.lineno})")
    return missing


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_schema_field_has_a_comment(module):
    missing = undocumented_fields(module)
    assert not missing, "fields without a one-line comment: " + ", ".join(missing)


def test_the_check_finds_dataclasses_and_missing_comments(tmp_path, monkeypatch):
    """The scan is not vacuous: it sees the schema's dataclasses and flags a bare field."""
    import importlib.util
    import sys

    src = tmp_path / "schema_probe.py"
    src.write_text(
        "from dataclasses import dataclass, field\n\n"
        "@dataclass\n"
        "class Probe:\n"
        "    a: int = 1  # documented\n"
        "    # documented on the line before\n"
        "    b: int = 2\n"
        "    c: str = '#not a comment'\n"
        "    d: list = field(default_factory=list)\n"
        "    e: list = field(  # documented on a line that goes on\n"
        "        default_factory=list)\n"
    )
    spec = importlib.util.spec_from_file_location("schema_probe", src)
    probe = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "schema_probe", probe)
    spec.loader.exec_module(probe)
    assert [m.split(" ")[0] for m in undocumented_fields(probe)] == ["Probe.c", "Probe.d"]
    # the real schema has fields to check in every module
    for module in MODULES:
        tree = ast.parse(inspect.getsource(module))
        assert any(isinstance(n, ast.ClassDef) and _is_dataclass_def(n) for n in ast.walk(tree))
