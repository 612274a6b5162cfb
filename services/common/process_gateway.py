"""The live processes as the agency services see them: Temporal Updates and status queries, with
Temporal's answers turned into domain errors (`services/common/errors.py`).

An Update's validator refusing the action is `Refused`; a process that does not answer in time or an engine
that cannot be reached is `Unavailable` (retry); a finished process is `Refused`, one that never ran
`NotFound`; any other error of the engine is `UpstreamError`. Each service names its process in its own
words (`Wording`), since the titles and details are part of its API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, overload

from pydantic import BaseModel
from temporalio.client import (
    Client,
    RPCError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCStatusCode

from services.common.errors import DomainError, NotFound, Refused, Unavailable, UpstreamError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
UPDATE_TIMEOUT = timedelta(seconds=15)


@dataclass(frozen=True)
class Wording:
    """How a service's answers speak of its process. Texts are formatted with the call's `subject` (by default
    `{workflow_id}`) and `{seconds}`, the time an update is given."""

    refused: str = "The process refused the action"
    late: tuple[str, str] = (
        "The process did not answer in time",
        "{workflow_id} did not answer within {seconds}s; try again",
    )
    finished: tuple[str, str] = (
        "The process has finished",
        "{workflow_id} has already finished (closed): no further action is possible",
    )
    # None: a process that is not found is told as finished (the service cannot tell one from the other).
    missing: tuple[str, str] | None = ("No such process", "{workflow_id} is not running (workflow not found)")
    # Whether the answers about a finished or missing process carry the subject as members, as refusals do.
    subject_when_gone: bool = True


class ProcessGateway:
    """Updates and queries on one service's live workflows; `status_query` is the name of their status query."""

    def __init__(self, client: Client, *, status_query: str, wording: Wording | None = None) -> None:
        self._client = client
        self._status_query = status_query
        self._wording = wording or Wording()

    @overload
    async def update(
        self,
        workflow_id: str,
        name: str,
        arg: BaseModel,
        *,
        update_id: str,
        result_type: type[M],
        subject: Mapping[str, Any] | None = None,
    ) -> M: ...

    @overload
    async def update(
        self,
        workflow_id: str,
        name: str,
        arg: BaseModel,
        *,
        update_id: str,
        result_type: None = None,
        subject: Mapping[str, Any] | None = None,
    ) -> None: ...

    async def update(
        self,
        workflow_id: str,
        name: str,
        arg: BaseModel,
        *,
        update_id: str,
        result_type: type[M] | None = None,
        subject: Mapping[str, Any] | None = None,
    ) -> M | None:
        """Run the update `name` once per `update_id` (Temporal dedupes a repeat) and return its result."""
        subject = subject or {"workflow_id": workflow_id}
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            if result_type is None:
                await handle.execute_update(name, arg, id=update_id, rpc_timeout=UPDATE_TIMEOUT)
                return None
            result: M = await handle.execute_update(
                name, arg, id=update_id, result_type=result_type, rpc_timeout=UPDATE_TIMEOUT
            )
            return result
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
            raise Refused(self._wording.refused, reason, **subject) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            title, detail = self._wording.late
            raise Unavailable(title, self._text(detail, subject)) from None
        except RPCError as exc:
            raise self.rpc_error(exc, subject) from None

    async def status(self, workflow_id: str, result_type: type[M]) -> M | None:
        """The process's status now (None when it cannot be read: the caller keeps what it had)."""
        try:
            result: M = await self._client.get_workflow_handle(workflow_id).query(
                self._status_query, result_type=result_type, rpc_timeout=timedelta(seconds=5)
            )
            return result
        except (RPCError, WorkflowQueryFailedError) as exc:
            log.warning("status query failed", extra={"workflow_id": workflow_id, "error": str(exc)[:300]})
            return None

    async def settled_status(self, workflow_id: str, result_type: type[M], fallback: M) -> M:
        """The status once the process has taken the steps an action starts at once (e.g. computing a new
        deadline by activity): read until two reads a moment apart agree, for at most about two seconds."""
        previous: M | None = None
        for _ in range(8):
            current = await self.status(workflow_id, result_type)
            if current is None:
                return previous or fallback
            if previous is not None and current == previous:
                return current
            previous = current
            await asyncio.sleep(0.25)
        return previous or fallback

    async def require_status(self, workflow_id: str, result_type: type[M]) -> M:
        """The process's status now, which the action needs: refused when it cannot be read."""
        try:
            result: M = await self._client.get_workflow_handle(workflow_id).query(
                self._status_query, result_type=result_type, rpc_timeout=timedelta(seconds=10)
            )
            return result
        except WorkflowQueryFailedError as exc:
            raise Unavailable("The process could not be read", str(exc)[:300], retry_after=None) from None
        except RPCError as exc:
            raise self.rpc_error(exc, {"workflow_id": workflow_id}) from None

    def rpc_error(self, exc: RPCError, subject: Mapping[str, Any]) -> DomainError:
        """What an error of the engine means for an action on the process named by `subject`."""
        if exc.status is RPCStatusCode.NOT_FOUND:
            members = subject if self._wording.subject_when_gone else {}
            if self._wording.missing is not None and "completed" not in exc.message.lower():
                title, detail = self._wording.missing
                return NotFound(title, self._text(detail, subject), **members)
            title, detail = self._wording.finished
            return Refused(title, self._text(detail, subject), **members)
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return Unavailable("The process engine is unavailable", exc.message)
        return UpstreamError("The process engine answered with an error", f"{exc.status.name}: {exc.message}")

    @staticmethod
    def _text(template: str, subject: Mapping[str, Any]) -> str:
        return template.format(**subject, seconds=UPDATE_TIMEOUT.seconds)
