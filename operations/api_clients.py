"""The Python clients of the services' APIs, generated from docs/openapi/ (`make clients`).

    python -m operations.api_clients [--output build/clients/python] [service ...]

One package per service, `anxin_<service>_client` in `<output>/<service>/` (a setuptools project: `pip install
build/clients/python/cases`, or that folder on `sys.path`), made by openapi-python-client with the options in
clients/python/config.yaml. The generator runs from its own virtualenv, `.tools/openapi-python-client/<version>/`
(`make install` makes it from clients/python/requirements.txt): it needs an older typer than the project's
command line, so it cannot share the project's. Nothing generated is committed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from operations.openapi_documents import OPENAPI_DIR, SERVICES

ROOT = Path(__file__).resolve().parents[1]
CLIENTS_DIR = ROOT / "clients" / "python"
REQUIREMENTS = CLIENTS_DIR / "requirements.txt"
CONFIG = CLIENTS_DIR / "config.yaml"
OUTPUT = ROOT / "build" / "clients" / "python"


class GeneratorMissing(RuntimeError):
    """The generator's virtualenv is not there: `make install` makes it."""


def generator_version() -> str:
    found = re.search(r"^openapi-python-client==(\S+)$", REQUIREMENTS.read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        raise ValueError(f"{REQUIREMENTS} pins no openapi-python-client")
    return found.group(1)


def generator_dir() -> Path:
    return ROOT / ".tools" / "openapi-python-client" / generator_version()


def package_name(service: str) -> str:
    return f"anxin_{service}_client"


def generate(service: str, output: Path = OUTPUT, documents: Path = ROOT / OPENAPI_DIR) -> Path:
    """Generate `service`'s client into `output/<service>/` (replaced if there); that folder."""
    tool = generator_dir() / "bin"
    if not (tool / "openapi-python-client").is_file():
        raise GeneratorMissing(f"no openapi-python-client in {tool.parent}: run `make install`")
    target = output / service
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    config = {
        **yaml.safe_load(CONFIG.read_text(encoding="utf-8")),
        "project_name_override": package_name(service).replace("_", "-"),
        "package_name_override": package_name(service),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as config_file:
        yaml.safe_dump(config, config_file)
        config_file.flush()
        # Its post-generation hooks call `ruff` by name: the generator's own, first on the PATH.
        run = subprocess.run(
            [
                str(tool / "openapi-python-client"),
                "generate",
                "--path",
                str(documents / f"{service}.json"),
                "--output-path",
                str(target),
                "--meta",
                "setup",
                "--config",
                config_file.name,
                "--fail-on-warning",
            ],
            env={**os.environ, "PATH": f"{tool}{os.pathsep}{os.environ.get('PATH', '')}"},
            capture_output=True,
            text=True,
            check=False,
        )
    if run.returncode != 0:
        raise RuntimeError(f"openapi-python-client failed on {service}.json:\n{run.stdout}\n{run.stderr}")
    shutil.rmtree(target / ".ruff_cache", ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "services",
        nargs="*",
        metavar="service",
        help=f"the services whose clients to generate (default: all of {', '.join(SERVICES)})",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the packages go")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"no such service: {', '.join(unknown)}")
    try:
        for service in args.services or SERVICES:
            began = time.perf_counter()
            folder = generate(service, args.output)
            print(f"{package_name(service)} in {folder} ({time.perf_counter() - began:.1f} s)")
    except (GeneratorMissing, RuntimeError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
