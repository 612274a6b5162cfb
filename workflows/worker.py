"""The lifecycle worker: both workflows and every lifecycle activity on `anxin-lifecycle`.

Run with `python -m workflows.worker`; it stops gracefully on SIGTERM or SIGINT (running activities are
given `graceful_shutdown_timeout` to finish; workflows resume on any worker from their history).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Literal

import httpx
from pydantic import Field
from temporalio.client import Client
from temporalio.worker import Worker

from services.common.auth import ClientCredentials
from services.common.crypto import KeyConfigError
from services.common.data_keys import KeyPurpose
from services.common.health import temporal_check
from services.common.logs import configure_logging
from services.common.runner import serve_health_while
from services.common.settings import CommonSettings
from services.common.telemetry import configure_tracing
from services.common.temporal import connect
from services.common.workflow_runner import sandboxed_workflow_runner
from services.contracts.lifecycle import TaskQueues
from workflows.activities import (
    CalendarActivities,
    CaseLinkActivities,
    NotificationActivities,
    ServiceActivities,
)
from workflows.case import CaseWorkflow
from workflows.clients import (
    CasesApi,
    HttpCasesApi,
    HttpCommandClient,
    HttpReferralsApi,
    HttpSanctionsApi,
    HttpSmsGateway,
    JournalServices,
    LocalSmsSink,
    ReferralsApi,
    ReplicatedCommandClient,
    SanctionsApi,
    SmsGateway,
)
from workflows.complaint import ComplaintWorkflow

log = logging.getLogger(__name__)

WORKFLOWS = [ComplaintWorkflow, CaseWorkflow]

# The sandbox re-imports a workflow's module for every workflow instance it creates (each new workflow,
# and each one brought back after leaving the worker's cache): for the complaint workflow that is
# compiling the module and building its pydantic state model again, 40% of the worker's time with many
# workflows open (docs/performance.md). The project's workflow modules only define classes and pure
# functions, so this worker takes them from outside the sandbox. The price: code in these modules is no
# longer checked at run time for clock, randomness or I/O calls here. The unit tests' workers
# (tests/unit/workflows/harness.py) keep the default sandbox, which re-imports and restricts everything,
# so such a call still fails the tests.
# The runner applies an activation's Updates after its other jobs (services/common/workflow_runner.py).
WORKFLOW_RUNNER = sandboxed_workflow_runner("workflows")


class LifecycleSettings(CommonSettings):
    """Where the lifecycle worker finds the services it commands."""

    # Each a base URL, or a comma-separated list of a service's replicas (see `service_client`).
    cases_url: str = Field("http://127.0.0.1:8002", alias="ANXIN_CASES_URL")
    referrals_url: str = Field("http://127.0.0.1:8003", alias="ANXIN_REFERRALS_URL")
    sanctions_url: str = Field("http://127.0.0.1:8004", alias="ANXIN_SANCTIONS_URL")
    # "http": call the services' APIs; "journal": record commands in a local file (development, before
    # the services exist).
    lifecycle_services: Literal["http", "journal"] = Field("http", alias="ANXIN_LIFECYCLE_SERVICES")
    # The worker's own client credentials (role `lifecycle`): the services refuse lifecycle requests without
    # its token. `make run` registers the client and passes the secret.
    lifecycle_client_id: str = Field("lifecycle-worker", alias="ANXIN_LIFECYCLE_CLIENT_ID")
    lifecycle_client_secret: str | None = Field(None, alias="ANXIN_LIFECYCLE_CLIENT_SECRET", repr=False)
    # Empty: messages to complainants go to the local sink file under the data dir.
    sms_gateway_url: str = Field("", alias="ANXIN_SMS_GATEWAY_URL")
    task_queue: str = Field(TaskQueues.LIFECYCLE, alias="ANXIN_LIFECYCLE_TASK_QUEUE")
    http_host: str = Field("127.0.0.1", alias="ANXIN_HTTP_HOST")
    http_port: int = Field(8200, alias="ANXIN_HTTP_PORT")
    # The Temporal SDK's own Prometheus metrics (workflow/activity counts, failures, latencies); 0: off.
    sdk_metrics_port: int = Field(0, alias="ANXIN_TEMPORAL_SDK_METRICS_PORT")
    # Where those metrics listen: loopback on one machine; a pod lets its cluster's scraper in with 0.0.0.0.
    sdk_metrics_host: str = Field("127.0.0.1", alias="ANXIN_TEMPORAL_SDK_METRICS_HOST")
    # Workflows kept in memory between their tasks (the SDK's sticky cache; its default is 1,000). One that has
    # left it is replayed from its whole history at its next task. With more workflows mid-step than this —
    # a burst of new complaints queued behind the worker — most tasks pay that replay; each cached complaint
    # workflow costs about 0.17 MiB (docs/performance.md).
    workflow_cache_size: int = Field(1000, ge=1, alias="ANXIN_LIFECYCLE_WORKFLOW_CACHE")

    def service_client(self, http: httpx.AsyncClient, base_url: str, audience: str) -> HttpCommandClient:
        """Commands to one service, authenticated as the lifecycle client with a token for that service alone,
        from the token issuer (`ANXIN_TOKEN_ISSUER_URL`)."""
        if not self.lifecycle_client_secret:
            raise KeyConfigError(
                "ANXIN_LIFECYCLE_CLIENT_SECRET must be set: the services answer lifecycle requests only with the "
                f"token of the lifecycle client {self.lifecycle_client_id!r}"
            )
        issuers = [part.strip().rstrip("/") for part in (self.token_issuer_url or "").split(",") if part.strip()]
        if not issuers:
            raise KeyConfigError("ANXIN_TOKEN_ISSUER_URL must name the token issuer: the services issue no tokens")
        replicas = []
        # A comma-separated list names replicas of the service (no load balancer in front of them), the next used
        # when one refuses the connection; a list of issuers pairs replica n with issuer n, so that an issuer
        # refusing the connection also moves the commands on to the next pair.
        for n, url in enumerate(part.strip() for part in base_url.split(",") if part.strip()):
            auth = ClientCredentials(
                f"{issuers[n % len(issuers)]}/oauth/token",
                self.lifecycle_client_id,
                self.lifecycle_client_secret,
                audiences=[audience],
            )
            replicas.append(HttpCommandClient(http, url, auth))
        return replicas[0] if len(replicas) == 1 else ReplicatedCommandClient(replicas)


def default_dependencies(
    settings: CommonSettings, http: httpx.AsyncClient | None
) -> tuple[CasesApi, ReferralsApi, SanctionsApi, SmsGateway]:
    lifecycle = settings if isinstance(settings, LifecycleSettings) else None
    data_dir = Path(settings.data_dir) / "lifecycle"
    if lifecycle is None or lifecycle.lifecycle_services == "journal" or http is None:
        journal = JournalServices(data_dir / "service-commands.jsonl")
        services: tuple[CasesApi, ReferralsApi, SanctionsApi] = (journal, journal, journal)
    else:
        services = (
            HttpCasesApi(lifecycle.service_client(http, lifecycle.cases_url, "cases")),
            HttpReferralsApi(lifecycle.service_client(http, lifecycle.referrals_url, "referrals")),
            HttpSanctionsApi(lifecycle.service_client(http, lifecycle.sanctions_url, "sanctions")),
        )
    sms: SmsGateway
    if lifecycle is not None and lifecycle.sms_gateway_url and http is not None:
        sms = HttpSmsGateway(HttpCommandClient(http, lifecycle.sms_gateway_url))
    else:
        sms = LocalSmsSink(data_dir / "sms-outbox.jsonl")
    return (*services, sms)


def build_worker(
    client: Client,
    settings: CommonSettings,
    *,
    task_queue: str | None = None,
    http: httpx.AsyncClient | None = None,
    cases: CasesApi | None = None,
    referrals: ReferralsApi | None = None,
    sanctions: SanctionsApi | None = None,
    sms: SmsGateway | None = None,
) -> Worker:
    """A worker for both lifecycle workflows and all their activities.

    Dependencies not given are built from `settings`: HTTP clients of the services when `settings` is a
    `LifecycleSettings` with `http`, otherwise the local journal and SMS sink under the data dir.
    """
    default_cases, default_referrals, default_sanctions, default_sms = default_dependencies(settings, http)
    services = ServiceActivities(cases or default_cases, referrals or default_referrals, sanctions or default_sanctions)
    calendar = CalendarActivities()
    link = CaseLinkActivities(client)
    notify = NotificationActivities(sms or default_sms)
    queue = task_queue or getattr(settings, "task_queue", None) or TaskQueues.LIFECYCLE
    return Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=[
            calendar.compute_deadline,
            link.join_case,
            notify.notify_complainant,
            services.notify_agency,
            services.report_process,
            services.forward_complaint,
            services.issue_order_to_pay,
            services.decide_additional_compensation,
            services.issue_letter,
            services.make_referral,
            services.withdraw_referral,
            services.send_referral_supplement,
            services.department_terms,
            services.start_blacklist_procedure,
            services.mark_for_publication,
            services.report_correction,
        ],
        graceful_shutdown_timeout=timedelta(seconds=20),
        workflow_runner=WORKFLOW_RUNNER,
        max_cached_workflows=getattr(settings, "workflow_cache_size", 1000),
    )


async def run(settings: LifecycleSettings) -> None:
    """Poll until SIGTERM/SIGINT, serving /healthz, /readyz and /metrics on ANXIN_HTTP_PORT meanwhile."""
    client = await connect(
        settings, sdk_metrics_port=settings.sdk_metrics_port, sdk_metrics_host=settings.sdk_metrics_host
    )

    async def poll(stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(20.0)) as http:
            worker = build_worker(client, settings, http=http)
            log.info("lifecycle worker polling", extra={"task_queue": worker.task_queue})
            async with worker:
                await stop.wait()
                log.info("lifecycle worker stopping")
        log.info("lifecycle worker stopped")

    await serve_health_while(
        process_name="lifecycle-worker",
        checks={"temporal": temporal_check(lambda: client)},
        host=settings.http_host,
        port=settings.http_port,
        main=poll,
    )


def require_data_keys(settings: CommonSettings) -> None:
    """Refuse to start without the payload keys: the worker would otherwise write readable payloads (names,
    amounts, failure messages) into Temporal's history, and could not read the encrypted ones."""
    if not settings.has_keys(KeyPurpose.PAYLOAD):
        raise SystemExit(
            "the lifecycle worker does not start without ANXIN_PAYLOAD_KEYS and ANXIN_PAYLOAD_KEY_ID: "
            'every workflow payload is encrypted with them (docs/operations.md, "Keys")'
        )
    settings.cipher(KeyPurpose.PAYLOAD)  # malformed keys fail here, at start, with KeyConfigError's message


def main() -> None:
    settings = LifecycleSettings()
    configure_logging("lifecycle-worker", settings.log_level)
    require_data_keys(settings)
    configure_tracing("lifecycle-worker", settings.data_dir)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
