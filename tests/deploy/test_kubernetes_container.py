"""The container build file (deploy/container/Containerfile), checked offline: it copies what exists and runs a
module of the project, and the package it installs (not the source tree) carries every file the processes read."""

from __future__ import annotations

import fnmatch
import json
import shlex
import tomllib
from pathlib import Path

from tests.deploy.kubernetes_manifests import IMAGE_UID, ROOT, expected_processes

CONTAINERFILE = ROOT / "deploy" / "container" / "Containerfile"


def containerfile_instructions() -> list[tuple[str, str]]:
    text = CONTAINERFILE.read_text().replace("\\\n", " ")
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            rows.append((instruction.upper(), rest.strip()))
    return rows


def test_the_containerfile_copies_what_exists_and_runs_a_project_module() -> None:
    instructions = containerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    copies = [shlex.split(rest) for instruction, rest in instructions if instruction == "COPY"]
    assert copies
    for *sources, _destination in copies:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
    copied = {Path(source).parts[0] for *sources, _ in copies for source in sources}
    # Every package pyproject.toml installs, and the files its build reads.
    assert copied >= {"pyproject.toml", "constraints.txt", "README.md", "services", "workflows", "operations", "deploy"}
    run = " ".join(rest for instruction, rest in instructions if instruction == "RUN")
    assert "pip install -c constraints.txt ." in run
    assert "fonts-wqy-microhei" in run
    assert ("USER", str(IMAGE_UID)) in instructions
    assert ("ENTRYPOINT", "[]") in instructions
    (cmd,) = [json.loads(rest) for instruction, rest in instructions if instruction == "CMD"]
    assert cmd == expected_processes()["intake-api"][0]


def test_the_installed_package_carries_every_file_the_processes_read() -> None:
    """The image installs the project as a package (not the source tree): a data file that the package-data
    patterns miss is not in the image. That happened to the intake form's script."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    missing = [
        str(path.relative_to(ROOT))
        # deploy/config: the default lifecycle configuration every process reads.
        for top in ("services", "workflows", "operations", "deploy/config")
        for path in (ROOT / top).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".py", ".pyc")
        and not any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)
    ]
    assert not missing, f"not in the installed package (pyproject.toml package-data): {missing}"
