"""Waiting for a stack process to be ready: a timeout says what the process last answered and where its log
is, so that a stack that did not start (in CI, at 3 a.m.) names the engine it still waited for."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy.engines import EngineError
from deploy.stack_processes import ProcessSpec, StackProcesses


class _Probe(BaseHTTPRequestHandler):
    answer = (503, {"status": "not ready", "service": "cases", "checks": {"kafka": "kafka unreachable"}})

    def do_GET(self) -> None:
        status, body = self.answer
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def probe() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _processes(log_dir: Path) -> StackProcesses:
    processes = StackProcesses.__new__(StackProcesses)
    processes.log_dir = log_dir
    return processes


def test_a_timeout_names_the_engine_the_process_still_waits_for(probe: ThreadingHTTPServer, tmp_path: Path) -> None:
    spec = ProcessSpec("cases-worker", ["true"], probe.server_address[1])
    with pytest.raises(EngineError) as raised:
        _processes(tmp_path).wait_process_ready(spec, timeout=1)
    message = str(raised.value)
    assert message.startswith("cases-worker not ready after 1s: /readyz answered 503")
    assert '"kafka": "kafka unreachable"' in message
    assert message.endswith(f"see {tmp_path}/cases-worker.log")


def test_a_process_that_does_not_answer_says_so(tmp_path: Path) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Probe) as closed:
        port = closed.server_address[1]  # bound, then closed: nothing listens there
    spec = ProcessSpec("intake-api", ["true"], port)
    with pytest.raises(EngineError, match=r"intake-api not ready after 1s: no answer; see .*intake-api\.log"):
        _processes(tmp_path).wait_process_ready(spec, timeout=1)


def test_a_ready_process_is_waited_for_no_longer(
    probe: ThreadingHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Probe, "answer", (200, {"status": "ready"}))
    spec = ProcessSpec("cases-worker", ["true"], probe.server_address[1])
    _processes(tmp_path).wait_process_ready(spec, timeout=5)
