"""The verifier's mutant list (tests/mutants.toml) still fits the code: a fast drift test, no proving.

`make mutation` (scripts/mutation.py) applies each mutant to a scratch copy and runs the proof
tests; this checks, without running them, that every mutant can still be applied (its snippet
occurs exactly once, the mutated file compiles) and that every killer names an existing test.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "tests" / "mutants.toml"
FIELDS = {"id", "check", "file", "original", "mutated", "killers"}

with LIST.open("rb") as _f:
    MUTANTS: list[dict] = tomllib.load(_f)["mutant"]


def _ids() -> list[str]:
    return [str(m.get("id", i)) for i, m in enumerate(MUTANTS)]


def test_the_list_is_not_empty_and_ids_are_unique_slugs():
    ids = [m["id"] for m in MUTANTS]
    assert len(ids) >= 40
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for i in ids:
        assert re.fullmatch(r"[a-z0-9][A-Za-z0-9_-]*", i), i


@pytest.mark.parametrize("mutant", MUTANTS, ids=_ids())
def test_the_mutant_applies_to_the_current_code(mutant):
    assert set(mutant) == FIELDS, f"fields: {sorted(set(mutant) ^ FIELDS)}"
    assert isinstance(mutant["check"], str) and mutant["check"].strip() and "\n" not in mutant["check"]
    path = Path(mutant["file"])
    assert not path.is_absolute() and path.parts[:2] == ("zkdl", "proof") and path.suffix == ".py", path
    assert ".." not in path.parts
    source = (ROOT / path).read_text()
    original, mutated = mutant["original"], mutant["mutated"]
    assert original and source.count(original) == 1, f"the original occurs {source.count(original)} times in {path}"
    assert mutated != original
    compile(source.replace(original, mutated), str(path), "exec")  # a mutant is never a syntax error


@pytest.mark.parametrize("mutant", MUTANTS, ids=_ids())
def test_every_killer_names_an_existing_test(mutant):
    killers = mutant["killers"]
    assert isinstance(killers, list) and all(isinstance(k, str) for k in killers)
    for node_id in killers:
        file, *names = node_id.split("::")
        path = ROOT / file
        assert re.fullmatch(r"tests/(.+/)?test_\w+\.py", file) and path.is_file(), f"{node_id}: no test file {file}"
        assert names, f"{node_id}: names no test"
        scope: list[ast.stmt] = ast.parse(path.read_text()).body
        for k, name in enumerate(names):
            last = k == len(names) - 1
            bare = re.fullmatch(r"(\w+)(\[.*\])?", name)
            assert bare and (last or not bare.group(2)), f"{node_id}: malformed part {name!r}"
            kinds = (ast.FunctionDef, ast.AsyncFunctionDef) if last else (ast.ClassDef,)
            found = [node for node in scope if isinstance(node, kinds) and node.name == bare.group(1)]
            assert found, f"{node_id}: {path.name} has no {'test' if last else 'class'} {bare.group(1)}"
            scope = found[0].body if not last else scope
