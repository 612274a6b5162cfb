"""Answers carrying a tracking code, personal data or a token are never kept by a cache (docs/security.md):
the attack is the next person at a shared phone or an internet café pressing Back, or a proxy's cache,
replaying the confirmation page with the worker's tracking code."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from deploy.secrets import development_clients
from deploy.stack import Stack
from tests.support.factories import ComplaintTemplate, seed

FORMS = ComplaintTemplate(
    employer_name="邯郸市缓存测试劳务有限公司",
    project_name="缓存测试安置房项目",
    period=("2026-05-01", "2026-08-31"),
    description="五月到八月在该项目干活，工资一直没有结清。",
    phone_prefix="136",
    credit_series="MD",
)


def test_pages_and_answers_with_codes_personal_data_or_tokens_are_not_stored(
    stack: Stack, client: Callable[[str, str | None], httpx.Client]
) -> None:
    public = client("intake-api", None)
    form = {k: str(v) for k, v in FORMS.body(seed()).items()}
    confirmation = public.post("/form", data=form)
    assert confirmation.status_code == 201 and "查询码" in confirmation.text, confirmation.text[:300]
    complaint_id = confirmation.text.split('id="complaint-id">', 1)[1].split("<", 1)[0].strip()
    code = confirmation.text.split('id="tracking-code">', 1)[1].split("<", 1)[0].strip()
    assert complaint_id.startswith("TS-") and len(code) == 9

    status_page = public.post("/status", data={"complaint_id": complaint_id, "tracking_code": code})
    status_api = public.get(f"/v1/complaints/{complaint_id}", headers={"X-Tracking-Code": code})
    clerk = client("intake-api", "clerk-130402")
    filed = clerk.post("/v1/complaints", json=FORMS.body(seed()))
    inspector = client("intake-api", "inspector-130402")
    complainant = inspector.get(f"/v1/complaints/{filed.json()['complaint_id']}/complainant")
    secret = development_clients(stack.data_dir)["clerk-130402"]["client_secret"]
    stack.start_processes(["issuer-api"])
    token = client("issuer-api", None).post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("clerk-130402", secret)
    )
    for name, response in [
        ("confirmation page", confirmation),
        ("status page", status_page),
        ("status API", status_api),
        ("filed complaint", filed),
        ("complainant", complainant),
        ("token", token),
    ]:
        assert response.status_code in (200, 201), (name, response.status_code, response.text[:300])
        assert "no-store" in response.headers.get("cache-control", ""), (name, response.headers)
