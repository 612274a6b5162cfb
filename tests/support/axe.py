"""axe-core, the accessibility checker, injected into a page under test: fetched once from the npm registry at a
pinned version (its registry integrity checked) into `.tools/`, then run in the browser; the tests assert no
serious or critical violation."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import ssl
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

from selenium.webdriver.remote.webdriver import WebDriver

from deploy.engines import REPO_ROOT

AXE_VERSION = "4.14.1"
AXE_TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
# The registry's `dist.integrity` of that tarball (npm view axe-core@4.14.1 dist.integrity).
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
AXE_FILE = REPO_ROOT / ".tools" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_source(path: Path = AXE_FILE) -> str:
    if not path.exists():
        # The system's certificate store (a network that inspects HTTPS has its authority there).
        with urllib.request.urlopen(AXE_TARBALL, timeout=60, context=ssl.create_default_context()) as response:
            tarball = response.read()
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        if digest != AXE_INTEGRITY:
            raise RuntimeError(f"axe-core {AXE_VERSION} from the registry does not match its integrity: {digest}")
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            source = member.read()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source)
    return path.read_text()


def serious_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """The page's serious and critical violations (WCAG 2.1 A and AA rules), each with the nodes it found."""
    driver.execute_script(axe_source())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify({error: String(e)})));"
    )
    violations = json.loads(result)
    if isinstance(violations, dict):
        raise RuntimeError(f"axe-core failed: {violations['error']}")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v.get("impact") in BLOCKING
    ]
