"""The Temporal Web UI of the cluster profile (`make temporal-ui`) in front of Temporal Server, with the
project's codec server wired in.

The UI runs on the stack's UI port +100 (as the server runs on the stack's Temporal port +100), a codec server
of its own on the stack's codec port +100, allowing the UI's origin, reached through its path secret. What a browser on the UI does is done
here over HTTP: load the page and its scripts, read the settings, list namespaces and workflows through the
UI server (which asks Temporal Server over gRPC), and send a workflow's encrypted input to the codec server
from the UI's origin to read it decrypted.
"""

from __future__ import annotations

import asyncio
import base64
import re
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from deploy.secrets import codec_path_token
from deploy.stack import Stack
from deploy.stack_processes import ProcessSpec
from deploy.temporal_server import TemporalServerEngine
from deploy.temporal_ui import TemporalUIEngine, ensure_built
from services.common.settings import CommonSettings
from services.common.temporal import connect
from tests.support.roundtrip import RoundTripWorkflow

CODEC_PROCESS = "codec-server-cluster-ui"


@pytest.fixture(scope="module")
def codec_endpoint(stack: Stack) -> Iterator[str]:
    """A codec server whose CORS allows the UI below (the stack's own one allows the dev server's UI)."""
    spec = ProcessSpec(
        CODEC_PROCESS,
        [sys.executable, "-m", "services.common.codec_server"],
        stack.ports.codec_server + 100,
        {
            **stack.engine_env(),
            "ANXIN_CODEC_PATH_TOKEN": codec_path_token(stack.data_dir),
            "ANXIN_TEMPORAL_UI_ORIGIN": f"http://127.0.0.1:{stack.ports.temporal_ui + 100}",
        },
    )
    stack.start_process(spec)
    try:
        stack.wait_process_ready(spec, 60)
        # As the launcher gives it to the UI: the path secret in the endpoint, no sign-in.
        yield f"{spec.url}/{codec_path_token(stack.data_dir)}"
    finally:
        stack.stop_process(CODEC_PROCESS)


@pytest.fixture(scope="module")
def temporal_ui(stack: Stack, temporal_server: TemporalServerEngine, codec_endpoint: str) -> Iterator[TemporalUIEngine]:
    ensure_built()
    engine = TemporalUIEngine(
        stack.data_dir, stack.log_dir, stack.ports.temporal_ui + 100, temporal_server.address, codec_endpoint
    )
    engine.start()
    try:
        engine.wait_ready(timeout=30)
        yield engine
    finally:
        engine.stop()


def _get_json(ui: TemporalUIEngine, path: str, **params: str) -> Any:
    response = httpx.get(f"{ui.origin}{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_page_its_scripts_and_the_settings(temporal_ui: TemporalUIEngine, codec_endpoint: str) -> None:
    page = httpx.get(temporal_ui.url, timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # The pages come from the binary itself (the module embeds the built UI): the scripts the page loads
    # are served too.
    scripts = re.findall(r'"(/_app/immutable/[^"]+\.js)"', page.text)
    assert scripts, page.text[:2000]
    assert httpx.get(f"{temporal_ui.origin}{scripts[0]}", timeout=10).status_code == 200

    settings = _get_json(temporal_ui, "/api/v1/settings")
    assert settings["Codec"]["Endpoint"] == codec_endpoint
    assert settings["Codec"]["PassAccessToken"] is False
    assert settings["Auth"]["Enabled"] is False
    assert settings["DisableNewsFetch"] is True
    assert settings["DefaultNamespace"] == "default"


async def test_namespaces_and_a_workflow_through_the_ui_decoded_by_the_codec_server(
    stack: Stack, temporal_server: TemporalServerEngine, temporal_ui: TemporalUIEngine, codec_endpoint: str
) -> None:
    namespaces = _get_json(temporal_ui, "/api/v1/namespaces")
    assert "default" in [ns["namespaceInfo"]["name"] for ns in namespaces["namespaces"]]

    # A workflow started on Temporal Server with the project's converter (payloads encrypted), no worker.
    keys = stack.development_secrets()
    client = await connect(
        CommonSettings(
            temporal_address=temporal_server.address,
            temporal_namespace="default",
            payload_keys=keys["ANXIN_PAYLOAD_KEYS"],
            payload_key_id=keys["ANXIN_PAYLOAD_KEY_ID"],
        )
    )
    queue = f"test-{uuid.uuid4().hex[:8]}"
    name = f"worker-{uuid.uuid4().hex[:6]}"
    handle = await client.start_workflow(RoundTripWorkflow.run, args=[name, 30], id=f"test:{queue}", task_queue=queue)
    try:
        # The list the UI's workflow page shows (visibility is written asynchronously: poll briefly).
        found: list[str] = []
        deadline = time.monotonic() + 15
        while not found and time.monotonic() < deadline:
            listed = _get_json(temporal_ui, "/api/v1/namespaces/default/workflows", query=f'WorkflowId="{handle.id}"')
            found = [wf["execution"]["workflowId"] for wf in listed.get("executions", [])]
            if not found:
                await asyncio.sleep(0.25)
        assert found == [handle.id]

        history = _get_json(temporal_ui, f"/api/v1/namespaces/default/workflows/{handle.id}/history")
        started = history["history"]["events"][0]["workflowExecutionStartedEventAttributes"]
        payloads = started["input"]["payloads"]
        assert name.encode() not in b"".join(base64.b64decode(p["data"]) for p in payloads)  # encrypted

        # What the page does with them: post them to the codec server from the UI's origin.
        origin = {"Origin": temporal_ui.origin}
        preflight = httpx.options(
            f"{codec_endpoint}/decode",
            timeout=10,
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == temporal_ui.origin
        decoded = httpx.post(
            f"{codec_endpoint}/decode",
            json={"payloads": payloads},
            timeout=10,
            headers={**origin, "X-Namespace": "default"},
        )
        assert decoded.status_code == 200, decoded.text
        assert decoded.headers["access-control-allow-origin"] == temporal_ui.origin
        plain = [base64.b64decode(p["data"]) for p in decoded.json()["payloads"]]
        assert plain == [f'"{name}"'.encode(), b"30"]
        # The same request without the path secret, or with another, decodes nothing.
        bare = codec_endpoint.rsplit("/", 1)[0]
        for wrong in (f"{bare}/decode", f"{bare}/{'x' * 43}/decode"):
            refused = httpx.post(wrong, json={"payloads": payloads}, timeout=10, headers=origin)
            assert refused.status_code == 401, (wrong, refused.text)
    finally:
        await handle.terminate("test done")
