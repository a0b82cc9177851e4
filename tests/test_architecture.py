"""The package's layering, read from the source: the native extension is reached only through the
backend seam (zkdl/backend/), so a second backend has one place to go."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zkdl"


def imported_modules(source: str, package: str) -> set[str]:
    """Every module that source in `package` imports; `from a import b` gives a and a.b (b may be a module)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")[: len(package.split(".")) + 1 - node.level] if node.level else []
            base = ".".join(parts + ([node.module] if node.module else []))
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def imports_of(path: Path) -> set[str]:
    return imported_modules(path.read_text(), ".".join(path.relative_to(ROOT).parts[:-1]))


def sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize(
    "line", ["import zkdl._kernels", "from zkdl import _kernels", "from zkdl._kernels import msm", "from .. import _kernels"]
)
def test_every_import_form_is_seen(line):
    assert "zkdl._kernels" in imported_modules(line, "zkdl.proof")


def test_only_the_backend_imports_the_native_extension():
    outside = [p for p in sources(PACKAGE) if PACKAGE / "backend" not in p.parents]
    offenders = [str(p.relative_to(ROOT)) for p in outside if "zkdl._kernels" in imports_of(p)]
    assert not offenders, f"import zkdl.backend, not zkdl._kernels: {offenders}"


def test_the_protocol_uses_the_seam_not_one_backend():
    implementations = {f"zkdl.backend.{p.stem}" for p in sources(PACKAGE / "backend") if p.stem != "__init__"}
    offenders = [str(p.relative_to(ROOT)) for p in sources(PACKAGE / "proof") if imports_of(p) & implementations]
    assert not offenders, f"zkdl/proof/ imports zkdl.backend itself, never one implementation: {offenders}"
