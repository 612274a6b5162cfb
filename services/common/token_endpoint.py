"""`POST /oauth/token` and `GET /.well-known/jwks.json`: on the token issuer (`services/issuer`), and on every
service's API, where the token route only names the issuer.

The token endpoint is the one route anybody may call with anything, and each call costs an scrypt (~60 ms of
CPU, by design). It runs in a process of its own, apart from the services (the workers' form above all), and
three things keep a flood from stalling even that process:

- the secret check runs in a small thread pool at the lowest priority, never on the event loop (scrypt
  releases the GIL), and when the pool and its short queue are full the request is refused at once (503 +
  Retry-After) instead of queueing without bound;
- failed attempts are counted per client address and per client id; past the limit the endpoint answers 429
  with Retry-After before any scrypt is spent. The counters live in the process's memory: cheap, and lost on a
  restart, which only gives an attacker a fresh window (each issuer process counts on its own);
- an unknown client id costs one scrypt, like a known one (a precomputed dummy hash), so it is neither cheaper
  to probe nor told apart by timing.

People sign in through the console: `grant_type=password` with the console's own client credentials (role
`console`, which gets no token of its own) and the person's id, password and, when enrolled, TOTP code. The
password's Argon2id check runs in the same pool, an unknown id is checked against a dummy hash, and failures
count per address and per account like a client's. The token names the person (`person:<id>`).

Only the issuer, given the signing key (`ANXIN_TOKEN_SIGNING_JWK`), issues; the services answer 421 with a
problem naming it (`ANXIN_TOKEN_ISSUER_URL`), and spend nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel

from services.common.auth import ClientRegistry, Principal, RegisteredClient, Role, unauthorized
from services.common.client_secrets import verify_secret
from services.common.errors import TooManyRequests, Unavailable
from services.common.passwords import check_sign_in, hash_password
from services.common.people import AccountDirectory, PersonAccount
from services.common.problems import PROBLEM_BASE, Problem
from services.common.token_keys import AUDIENCES, TokenIssuer, TokenVerifier

MAX_CLIENT_ID = 128


@dataclass(frozen=True)
class TokenEndpointLimits:
    failures_per_address: int = 10
    failures_per_client: int = 20
    window_seconds: int = 60
    # Threads checking secrets: each scrypt keeps one core busy, and the machine serves requests too.
    check_workers: int = 1
    # Requests allowed to wait for a thread; beyond that they are refused (each waits ≤ queue × ~60 ms).
    check_queue: int = 4


class FailureCounter:
    """Failed attempts per key in a sliding window, in memory, for at most `max_keys` keys (the least recently
    failed are forgotten first, so a spray of made-up ids or addresses cannot grow it without bound)."""

    def __init__(
        self, limit: int, window_seconds: float, *, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        horizon = self._clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None if it may now."""
        times = self._recent(key)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window - self._clock()))

    def fail(self, key: str) -> None:
        times = self._recent(key) or deque()
        times.append(self._clock())
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)


def address_key(host: str | None) -> str:
    """The key a client address is counted under: the address, or its /64 for IPv6 (one host holds a whole
    /64, and would otherwise get a fresh counter per address)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class PoolSaturated(Exception):
    pass


def _lower_priority() -> None:
    """Run this checking thread at the lowest CPU priority (Linux schedules each thread on its own): under a
    flood the scheduler gives every other process — the services, the workers' form — the CPU first, and the
    checks what is left (they are refused with 503 when they fall behind). SCHED_IDLE where the system allows
    it: any other thread waking up takes the CPU from a check at once, where a nice 19 thread keeps it until
    its time slice ends; else nice 19."""
    thread = threading.get_native_id()
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, thread, 19)
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))


class SecretChecks:
    """Client secret checks in a small thread pool (scrypt releases the GIL); `check` refuses at once when it
    is full. (A pool of processes did worse in the one flood run tried on a busy 2-core machine; its manager and
    feeder threads take the GIL too. docs/security.md has the figures.)"""

    def __init__(
        self,
        registry: ClientRegistry,
        workers: int,
        queue: int,
        *,
        executor: Callable[[], Executor] | None = None,
        verify: Callable[[str, str], bool] = verify_secret,
    ) -> None:
        self._registry = registry
        self._new_executor = executor or (
            lambda: ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="client-secret-check", initializer=_lower_priority
            )
        )
        self._executor = self._new_executor()
        self._verify = verify
        self._capacity = workers + queue
        self._in_flight = 0

    async def check(self, client_id: str, secret: str) -> RegisteredClient | None:
        client, stored = self._registry.stored_hash(client_id)
        ok = await self.run(self._verify, secret, stored)
        return client if ok and client is not None else None

    async def run(self, check: Callable[..., bool], *args: Any) -> bool:
        """`check(*args)` on a checking thread; PoolSaturated at once when the pool and its queue are full."""
        if self._in_flight >= self._capacity:
            raise PoolSaturated
        # Counted on the event loop only (no lock needed): incremented here, decremented when awaited back.
        self._in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            return bool(await loop.run_in_executor(self._executor, check, *args))
        finally:
            self._in_flight -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    role: str
    audience: list[str]


def requested_audiences(values: list[str]) -> list[str]:
    """The services a client asks its token for (`audience`, or RFC 8707 `resource`, repeated or space
    separated); none asked: all of them."""
    names = [name for value in values for name in value.split()]
    if not names:
        return list(AUDIENCES)
    unknown = sorted(set(names) - set(AUDIENCES))
    if unknown:
        raise Problem(
            400,
            "Unknown audience",
            f"No such service: {', '.join(unknown)}. Ask for any of: {', '.join(AUDIENCES)}.",
            type_=f"{PROBLEM_BASE}invalid-target",
        )
    return [name for name in AUDIENCES if name in names]


# Module level: route signatures are resolved by name, and a closure's local would not be found.
_basic = HTTPBasic(auto_error=False)


@dataclass
class TokenEndpoint:
    """What the token route needs: the verifier (its JWKS is published), and on the issuer only, the issuer,
    the registered clients, the pool that checks their secrets and the failure counters."""

    verifier: TokenVerifier
    issuer: TokenIssuer | None = None
    registry: ClientRegistry | None = None
    limits: TokenEndpointLimits = TokenEndpointLimits()
    issuer_url: str | None = None
    # People's accounts (the issuer's schema): None where people do not sign in here.
    accounts: AccountDirectory | None = None

    def __post_init__(self) -> None:
        self.checks = (
            SecretChecks(self.registry, self.limits.check_workers, self.limits.check_queue)
            if self.issuer is not None and self.registry is not None
            else None
        )
        self.by_address = FailureCounter(self.limits.failures_per_address, self.limits.window_seconds)
        self.by_client = FailureCounter(self.limits.failures_per_client, self.limits.window_seconds)
        self.by_person = FailureCounter(self.limits.failures_per_client, self.limits.window_seconds)
        # An unknown person's password is checked against this, so it costs one Argon2 like a known one's.
        self._dummy_password_hash = hash_password(os.urandom(16).hex()) if self.accounts is not None else ""

    def close(self) -> None:
        if self.checks is not None:
            self.checks.close()

    def refuse_if_limited(self, address: str, client_id: str, *, person_id: str | None = None) -> None:
        limits = [(self.by_address, address, "from this address")] + (
            [(self.by_client, client_id, "for this client id")]
            if person_id is None
            else [(self.by_person, person_id, "for this account")]
        )
        for counter, key, what in limits:
            wait = counter.retry_after(key)
            if wait is not None:
                raise TooManyRequests(
                    "Too many failed token requests",
                    f"Too many wrong client credentials {what}; try again in {wait} s.",
                    retry_after=wait,
                )

    def not_the_issuer(self) -> Problem:
        if not self.issuer_url:
            return Problem(
                421,
                "Not the token issuer",
                "This service verifies tokens but does not issue them.",
                type_=f"{PROBLEM_BASE}not-the-token-issuer",
            )
        url = f"{self.issuer_url.rstrip('/')}/oauth/token"
        return Problem(
            421,
            "Not the token issuer",
            f"This service does not issue tokens; ask {url}.",
            type_=f"{PROBLEM_BASE}not-the-token-issuer",
            token_endpoint=url,
        )

    async def authenticate(self, address: str, client_id: str, secret: str) -> RegisteredClient:
        assert self.checks is not None
        if len(client_id) > MAX_CLIENT_ID:
            # No registered id is this long; kept out of the counters, whose keys would otherwise hold it.
            self.by_address.fail(address)
            raise unauthorized("Unknown client or wrong secret.")
        self.refuse_if_limited(address, client_id)
        try:
            client = await self.checks.check(client_id, secret)
        except PoolSaturated:
            raise Unavailable(
                "Token endpoint busy", "Too many token requests are being checked; try again.", retry_after=1
            ) from None
        if client is None:
            self.by_address.fail(address)
            self.by_client.fail(client_id)
            raise unauthorized("Unknown client or wrong secret.")
        return client

    async def authenticate_person(self, address: str, person_id: str, password: str, code: str | None) -> Principal:
        """A person's token's principal, once their password (and code, when enrolled) passed; 401 otherwise,
        403 for a disabled account whose password passed (it gets no token)."""
        assert self.checks is not None and self.accounts is not None
        if len(person_id) > MAX_CLIENT_ID:
            self.by_address.fail(address)
            raise unauthorized("Unknown account, wrong password or wrong code.")
        self.refuse_if_limited(address, "", person_id=person_id)
        account: PersonAccount | None = await self.accounts.find(person_id)
        stored = account.password_hash if account is not None else self._dummy_password_hash
        totp_secret = account.totp_secret if account is not None else None
        try:
            ok = await self.checks.run(check_sign_in, password, stored, totp_secret, code)
        except PoolSaturated:
            raise Unavailable(
                "Token endpoint busy", "Too many sign-ins are being checked; try again.", retry_after=1
            ) from None
        if not ok or account is None:
            self.by_address.fail(address)
            self.by_person.fail(person_id)
            raise unauthorized("Unknown account, wrong password or wrong code.")
        if account.disabled:
            raise Problem(
                403,
                "Account disabled",
                "This account is disabled; it gets no token.",
                type_=f"{PROBLEM_BASE}account-disabled",
            )
        return account.principal()


def token_router(endpoint: TokenEndpoint) -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.post(
        "/oauth/token",
        response_model=TokenResponse,
        summary="OAuth2 client credentials: exchange a client id and secret for an access token",
    )
    async def token(
        request: Request,
        credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
        grant_type: Annotated[str, Form(examples=["client_credentials", "password"])],
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
        username: Annotated[str | None, Form(description="grant_type=password: the person's id")] = None,
        password: Annotated[str | None, Form(description="grant_type=password: the person's password")] = None,
        totp: Annotated[
            str | None, Form(description="grant_type=password: the current TOTP code, when enrolled")
        ] = None,
        audience: Annotated[
            list[str] | None, Form(description="services the token is for (space separated); default: all")
        ] = None,
        resource: Annotated[list[str] | None, Form(description="RFC 8707 resource: same as audience")] = None,
    ) -> TokenResponse:
        if endpoint.issuer is None or endpoint.checks is None:
            raise endpoint.not_the_issuer()
        if grant_type not in ("client_credentials", "password"):
            raise Problem(
                400,
                "Unsupported grant type",
                "Use grant_type=client_credentials (or password, for the console signing a person in).",
            )
        audiences = requested_audiences([*(audience or []), *(resource or [])])
        if credentials is not None:
            client_id, client_secret = credentials.username, credentials.password
        if not client_id or not client_secret:
            raise unauthorized("Client credentials are required (HTTP Basic or form fields).")
        address = address_key(request.client.host if request.client else None)
        client = await endpoint.authenticate(address, client_id, client_secret)
        if (grant_type == "password") != (client.role == Role.console):
            # The console's client signs people in and nothing else; no other client may sign anyone in.
            raise Problem(
                400,
                "Unauthorized client",
                f"This client may not use grant_type={grant_type}.",
                type_=f"{PROBLEM_BASE}unauthorized-client",
            )
        principal = client.principal()
        if grant_type == "password":
            if endpoint.accounts is None:
                raise Problem(400, "Unsupported grant type", "This issuer holds no people's accounts.")
            if not username or not password:
                raise Problem(400, "Credentials required", "grant_type=password needs username and password.")
            principal = await endpoint.authenticate_person(address, username, password, totp)
        return TokenResponse(
            access_token=endpoint.issuer.issue(principal, audiences=audiences),
            expires_in=endpoint.issuer.ttl_seconds,
            role=principal.role.value,
            audience=audiences,
        )

    @router.get("/.well-known/jwks.json", summary="The public keys agency tokens are verified with (JWKS)")
    async def jwks(response: Response) -> dict[str, list[dict[str, str]]]:
        # Short caching: a rotation publishes a new key some time before the issuer uses it.
        response.headers["Cache-Control"] = "public, max-age=300"
        return endpoint.verifier.jwks

    return router
