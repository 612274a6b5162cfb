"""What the application layer raises when it refuses a request: domain errors, free of HTTP.

Commands (`actions.py`, `commands.py`), domain rules and the kernel (`services/common/commands.py`,
`services/common/process_gateway.py`) raise these; `services/common/problems.py` turns each into its RFC 9457
problem document in one place (status, type, headers), so the answers of every service are alike.

Every error has a `title` (short, the same for every instance of a refusal) and a `detail` (this instance:
which record, which rule). `code` names the kind of refusal where clients tell kinds apart (the problem's
`type` ends with it); `members` are extra facts a client may use (e.g. `workflow_id`), sent as they are.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the application refuses, with the reason."""

    code: str | None = None

    def __init__(self, title: str, detail: str | None = None, *, code: str | None = None, **members: Any) -> None:
        super().__init__(detail or title)
        self.title = title
        self.detail = detail
        if code is not None:
            self.code = code  # this instance's kind, in place of the class's
        self.members = members


class NotFound(DomainError):
    """No such record, or none in the caller's scope (its existence is not revealed)."""


class Forbidden(DomainError):
    """The caller's role may not do this."""

    def __init__(self, detail: str, **members: Any) -> None:
        super().__init__("Forbidden", detail, **members)


class Unauthenticated(DomainError):
    """Only an authenticated caller may have this."""


class Incomplete(DomainError):
    """The request leaves out something it must name (e.g. a filter)."""


class Invalid(DomainError):
    """The request's content breaks a rule; `errors` names the fields (`field`, `code`, `message`)."""

    code = "validation"

    def __init__(
        self, title: str, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None, **members: Any
    ) -> None:
        super().__init__(title, detail, **members)
        self.errors = errors


class Unprocessable(DomainError):
    """The request is well formed but cannot be carried out as it stands (its parts do not fit together, or
    not with the records it names)."""


class IdempotencyKeysDiffer(Unprocessable):
    """The Idempotency-Key header and the body's `idempotency_key` name different requests."""

    def __init__(self) -> None:
        super().__init__(
            "Idempotency keys differ", "the Idempotency-Key header and the body's idempotency_key must be the same"
        )


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key came before with another request (of the kind named)."""

    code = "idempotency-key-reused"

    def __init__(self, kind: str) -> None:
        super().__init__("Idempotency-Key reused", f"the Idempotency-Key was used for a different {kind} request")


class Refused(DomainError):
    """A rule or the live process refuses the action.

    `request_at_fault`: the request itself cannot be acted on (it names a process the case does not hold, or
    fails to name one; it does not meet the legal criteria) rather than the state of the record or process
    refusing it now."""

    code = "action-refused"

    def __init__(
        self,
        title: str,
        detail: str | None = None,
        *,
        request_at_fault: bool = False,
        code: str | None = None,
        **members: Any,
    ) -> None:
        super().__init__(title, detail, code=code, **members)
        self.request_at_fault = request_at_fault


class Conflict(DomainError):
    """The record changed meanwhile, or the action has nothing left to do; read it again."""


class Unavailable(DomainError):
    """An engine the action needs cannot be reached now; `retry_after` (seconds) when a retry soon is
    expected to succeed."""

    def __init__(self, title: str, detail: str | None = None, *, retry_after: int | None = 5, **members: Any) -> None:
        super().__init__(title, detail, **members)
        self.retry_after = retry_after


class TooManyRequests(DomainError):
    """The caller sent too many requests in a window; `retry_after` (seconds) says when the next is taken."""

    code = "rate-limited"

    def __init__(self, title: str, detail: str | None = None, *, retry_after: int, **members: Any) -> None:
        super().__init__(title, detail, **members)
        self.retry_after = retry_after


class UpstreamError(DomainError):
    """An engine the action needs answered with an error of its own."""
