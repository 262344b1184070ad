"""Architecture contracts: the pure core imports no edge, every module has a complete __all__.

(ruff's RUF022 keeps each __all__ sorted.)
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import adapter

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "adapter"
PURE = ("mds", "sources", "fhir", "omop", "terminology")
EDGE_IMPORTS = (
    "fastapi", "starlette", "uvicorn", "typer", "rich", "requests", "httpx", "psycopg",
    "sqlalchemy", "adapter.stores", "adapter.api", "adapter.cli", "adapter.progress",
)  # fmt: skip


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize(
    "path",
    [p for p in modules() if p.relative_to(PACKAGE).parts[0] in PURE],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_pure_core_imports_no_edge(path: Path) -> None:
    bad = {n for n in imported(path) for e in EDGE_IMPORTS if n == e or n.startswith(e + ".")}
    assert not bad, f"{path.relative_to(ROOT)} imports edge modules {sorted(bad)}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_all_is_complete(path: Path) -> None:
    if path.name == "__main__.py":
        return
    module = importlib.import_module(module_name(path))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    public = {
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.ClassDef) and not n.name.startswith("_")
    }
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module.__name__} has no __all__"
    assert public <= set(exported), f"{module.__name__} does not export {public - set(exported)}"
    for name in exported:
        assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name}"


def test_package_reexports_the_public_api() -> None:
    for name in adapter.__all__:
        assert getattr(adapter, name) is not None
