"""Structured JSON logs, one object per line, with whatever `extra=` fields a call passes.

Never pass personal data (ID numbers, phones, bank cards, names) in a message or an extra field;
use complaint/case ids and keyed references.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}


class JsonFormatter(logging.Formatter):
    def __init__(self, process_name: str) -> None:
        super().__init__()
        self._process = process_name

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "process": self._process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            # Lets a log line be found from its trace, and the trace from the log line.
            doc["trace_id"] = f"{span.trace_id:032x}"
            doc["span_id"] = f"{span.span_id:016x}"
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure_logging(process_name: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # kafka-python is very chatty at INFO while a broker is away; its warnings are enough.
    logging.getLogger("kafka").setLevel(logging.WARNING)
    # fontTools logs each step of subsetting the Chinese font into every letter and poster (dozens of lines
    # per PDF), drowning the process's own lines.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
