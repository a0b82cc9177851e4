"""The package's layering, read from the source: the native extension is reached only through the
backend seam (zkdl/backend/), so a second backend has one place to go."""

from __future__ import annotations

import ast
import re
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


# ---- docs/kernels.md's export table against the extension ------------------------------------------

REGISTERED = (
    r"wrap_pyfunction!\((\w+)",  # functions
    r"m\.add\(\"(\w+)\"",  # constants and the exception
    r"#\[pyclass\(name = \"(\w+)\"",  # classes renamed for Python
    r"#\[pyclass\((?![^\]]*name =)[^\]]*\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub )?struct (\w+)",  # classes under their Rust name
)


def registered_exports() -> dict[str, set[str]]:
    """What each file of kernels/src/py/ adds to the module."""
    out = {}
    for path in sorted((ROOT / "kernels" / "src" / "py").glob("*.rs")):
        text = path.read_text()
        names = {name for pattern in REGISTERED for name in re.findall(pattern, text)}
        if names:
            out[path.name] = names
    return out


def documented_exports() -> dict[str, set[str]]:
    """The rows of the table under docs/kernels.md's "## Exports": file → names."""
    text = (ROOT / "docs" / "kernels.md").read_text()
    section = text.split("\n## Exports\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+\.rs)` \| (.+) \|$", section, flags=re.M)
    return {file: set(re.findall(r"`(\w+)`", names)) for file, names in rows}


def test_the_kernel_docs_list_every_export_by_file():
    assert documented_exports() == registered_exports()


def test_the_built_extension_exports_what_the_sources_register():
    from zkdl import _kernels

    public = {name for name in dir(_kernels) if not name.startswith("_")}
    assert public == set().union(*registered_exports().values()), "rebuild the extension (maturin develop)"
