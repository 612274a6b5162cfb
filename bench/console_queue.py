"""`make bench`'s console measure: the inspector's queue page with 10,000 open cases in one county, against the
cases API's own `GET /v1/cases` that the page calls — what the console adds over the API call (a session
looked up, the page rendered with each row's working-day countdown).

The cases are written straight into the ledger of the benchmark stack's cases schema (as bench/scale_complaints.py
does for the report), each open with a deadline spread over the next weeks; an inspector of that county is made at
the token issuer and signs in through the console's form. Both sides are asked the same page one request at a
time, as a person asks it (first page, 50 rows, sorted by next deadline), p50 and p95 over `repeat` requests.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import Any

import httpx
import psycopg

from bench.measures import percentiles
from deploy.secrets import development_clients
from deploy.stack import Stack
from services.common.auth import Role
from services.issuer.accounts import SCHEMA as ISSUER_SCHEMA
from services.issuer.accounts import NewAccount, add_account

COUNTY = "130404"
PROCESSES = ["issuer-api", "cases-api", "console"]
BASELINE = "cases API `GET /v1/cases`, the call the page makes"

LEDGER_ROWS = """
INSERT INTO cases.ledger (case_id, county, city, employer_ref, employer_name, project_ref, project_name,
                          complaint_count, complainant_count, workers_affected, amount_claimed, stage, status,
                          assigned_inspector, deadlines, next_deadline, overdue, process_case_ids, received_at)
SELECT 'C-Q' || lpad(n::text, 8, '0'), %(county)s, '130400', 'E-' || md5(n::text), '邯郸某建筑劳务有限公司' || n,
       'P-' || md5('p' || n::text), '某某小区' || (n %% 300) || '号楼', 1, 1, 1 + n %% 12, 6000 + n %% 50000,
       (ARRAY['acceptance', 'verification', 'service', 'payment'])[1 + n %% 4], 'open', 'inspector-' || %(county)s,
       jsonb_build_array(jsonb_build_object('name', 'verification', 'due_at', due, 'due_date', due::date,
                                            'outcome', 'pending')),
       due, n %% 23 = 0, ARRAY['C-Q' || lpad(n::text, 8, '0')], now() - interval '20 days'
FROM generate_series(1, %(cases)s) AS n,
     LATERAL (SELECT now() + (n %% 600 - 40) * interval '1 hour' AS due) d
ON CONFLICT (case_id) DO NOTHING
"""


def seed_cases(stack: Stack, cases: int) -> None:
    with psycopg.connect(stack.postgres.database_url("anxin")) as conn:
        conn.execute(LEDGER_ROWS, {"county": COUNTY, "cases": cases})


def make_inspector(stack: Stack) -> tuple[str, str]:
    person_id, password = f"bench-{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
    url = stack.postgres.service_url(ISSUER_SCHEMA)
    with psycopg.connect(url, options=f"-c search_path={ISSUER_SCHEMA}") as conn:
        add_account(
            conn, NewAccount(person_id, "测试员", Role.county_inspector, COUNTY, None).checked(), password, totp=False
        )
    return person_id, password


def _timed(repeat: int, call: Any) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    return samples


def measure_queue(stack: Stack, cases: int, repeat: int) -> dict[str, dict[str, float]]:
    """p50/p95 (ms) of the console's queue page and of the cases API call behind it, same person, same page."""
    seed_cases(stack, cases)
    person_id, password = make_inspector(stack)
    console_url = stack.processes["console"].url
    cases_url = stack.processes["cases-api"].url
    with httpx.Client(base_url=console_url, timeout=30) as browser:
        form = browser.get("/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf, form.text
        signed_in = browser.post("/sign-in", data={"csrf": csrf.group(1), "person_id": person_id, "password": password})
        assert signed_in.status_code == 303, signed_in.text
        page = browser.get("/queue")
        assert page.status_code == 200 and "C-Q" in page.text, page.text[:500]
        console_samples = _timed(repeat, lambda: browser.get("/queue"))
    # The person's own token, as the console holds it, for the API call the page makes.
    console_client = development_clients(stack.data_dir)["console"]
    token = httpx.post(
        f"{stack.processes['issuer-api'].url}/oauth/token",
        timeout=30,
        auth=("console", console_client["client_secret"]),
        data={"grant_type": "password", "username": person_id, "password": password},
    ).json()
    params = {"status": "open", "sort": "next_deadline", "limit": "50"}
    with httpx.Client(
        base_url=cases_url, timeout=30, headers={"Authorization": f"Bearer {token['access_token']}"}
    ) as api:
        listed = api.get("/v1/cases", params=params)
        assert listed.status_code == 200 and len(listed.json()["items"]) == 50, listed.text[:500]
        api_samples = _timed(repeat, lambda: api.get("/v1/cases", params=params))
    return {"console": percentiles(console_samples), "api": percentiles(api_samples)}
