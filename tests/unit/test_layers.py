"""Layers point down: every import of the project's code, read from the source (top-level and inside functions).

    services.contracts  ←  services.common  ←  each service (services.<name>) and workflows  ←  deploy  ←  operations  ←  bench

A layer imports only itself and the layers to its left. Services never import each other, nor `workflows`;
`workflows` imports no service. `deploy` (the launcher) sits under the two tool packages that start stacks
with it: `operations` (the `anxin` command line), and above it `bench`, whose fault run ends with the
operators' ledger audit.
Standard-library and third-party imports are not checked.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("services", "workflows", "deploy", "operations", "bench")

CONTRACTS, COMMON = "services.contracts", "services.common"
SERVICES = sorted(
    f"services.{p.name}"
    for p in (ROOT / "services").iterdir()
    if (p / "__init__.py").exists() and f"services.{p.name}" not in (CONTRACTS, COMMON)
)
# What each layer may import besides itself.
MAY_IMPORT: dict[str, frozenset[str]] = {
    CONTRACTS: frozenset(),
    COMMON: frozenset({CONTRACTS}),
    **{service: frozenset({CONTRACTS, COMMON}) for service in SERVICES},
    "workflows": frozenset({CONTRACTS, COMMON}),
    "deploy": frozenset({CONTRACTS, COMMON, *SERVICES, "workflows"}),
    "operations": frozenset({CONTRACTS, COMMON, *SERVICES, "workflows", "deploy"}),
    "bench": frozenset({CONTRACTS, COMMON, *SERVICES, "workflows", "deploy", "operations"}),
}

# Known exceptions, each with the reason it is still there. Remove an entry when its import is gone (the
# test says so when an entry no longer matches anything).
ALLOWED: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    importer: str  # module name, e.g. services.cases.projection
    imported: str  # module (or module.name) imported, e.g. workflows.calendar.compute_deadline


def layer_of(module: str) -> str | None:
    """The layer a project module belongs to; None for the standard library and third-party packages."""
    parts = module.split(".")
    if parts[0] == "services":
        return ".".join(parts[:2]) if len(parts) > 1 else None  # `services` alone is an empty namespace
    return parts[0] if parts[0] in SOURCE_DIRS else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[Import]:
    importer = module_name(path)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, importer, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importing module's package
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # `from services import cases` imports services.cases: name each imported name.
            found += [Import(path, node.lineno, importer, f"{module}.{alias.name}") for alias in node.names]
    return found


@functools.cache
def project_imports() -> tuple[Import, ...]:
    files = sorted(p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py"))
    assert files, f"no sources found under {ROOT}"
    return tuple(imp for path in files for imp in imports_of(path))


def allow_list_entry(imp: Import) -> tuple[str, str] | None:
    for importer, imported in ALLOWED:
        if imp.importer == importer and (imp.imported == imported or imp.imported.startswith(imported + ".")):
            return importer, imported
    return None


def test_every_module_belongs_to_a_layer() -> None:
    unknown = sorted({imp.importer for imp in project_imports() if layer_of(imp.importer) not in MAY_IMPORT})
    assert not unknown, f"modules outside every layer (add their package to MAY_IMPORT): {unknown}"


def test_imports_point_down() -> None:
    forbidden = []
    for imp in project_imports():
        source, target = layer_of(imp.importer), layer_of(imp.imported)
        if source is None or target is None or target == source or source not in MAY_IMPORT:
            continue
        if target in MAY_IMPORT[source] or allow_list_entry(imp):
            continue
        allowed = ", ".join(sorted(MAY_IMPORT[source])) or "nothing else"
        forbidden.append(
            f"{imp.path.relative_to(ROOT)}:{imp.line}: {imp.importer} imports {imp.imported} "
            f"({source} may import only itself and {allowed})"
        )
    assert not forbidden, "imports pointing up or sideways:\n" + "\n".join(forbidden)


def test_the_allow_list_holds_only_imports_that_still_exist() -> None:
    used = {entry for imp in project_imports() if (entry := allow_list_entry(imp))}
    stale = [f"{importer} -> {imported}" for importer, imported in ALLOWED if (importer, imported) not in used]
    assert not stale, f"allow-list entries no longer needed; delete them from ALLOWED: {stale}"
