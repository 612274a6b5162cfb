"""A browser without JavaScript on the console, for the agencies' and the city office's pages: sign in as a
person made with `anxin users add`, and read a form's hidden fields back from the page."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator

import httpx

from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.factories import seed
from tests.support.people import add_person


def browser(console: str) -> httpx.Client:
    return httpx.Client(base_url=console, timeout=60, follow_redirects=False)


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def hidden_fields(page: httpx.Response, action: str) -> dict[str, str]:
    """The hidden fields of the page's form posting to `action` (its CSRF token, its idempotency key, …)."""
    form = re.search(r'<form method="post" action="' + re.escape(action) + r'"[^>]*>(.*?)</form>', page.text, re.S)
    assert form, f"no form for {action} in:\n{page.text}"
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(1))
    }


@contextlib.contextmanager
def signed_in_person(stack: Stack, console: str, role: str, *scope: str) -> Iterator[httpx.Client]:
    """A browser signed in as a new person of `role` (scope: `--county C` or `--department D`)."""
    person_id, password, _ = add_person(stack, role, *scope)
    with browser(console) as client:
        yield sign_in(client, person_id, password)


@contextlib.contextmanager
def signed_in_as(console: str, person_id: str, password: str) -> Iterator[httpx.Client]:
    """A browser signed in as a person made earlier (the test console's sessions end after a few idle seconds:
    sign in just before reading pages)."""
    with browser(console) as client:
        yield sign_in(client, person_id, password)


def sign_in(client: httpx.Client, person_id: str, password: str) -> httpx.Client:
    """The client signed in through the console's own form."""
    form = client.get("/sign-in")
    assert form.status_code == 200, form.text
    signed = client.post("/sign-in", data={"csrf": csrf_of(form), "person_id": person_id, "password": password})
    assert signed.status_code == 303, signed.text
    return client


def handed_off_to_housing(agencies: Agencies) -> str:
    """A case filed, accepted and verified as a project payment dispute for housing: the process hands it off."""
    _, case_id = agencies.accepted_case(complaint_body(seed()))
    verified = agencies.act(
        agencies.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "project_payment_dispute", "department": "housing"},
    )
    assert verified.status_code == 200, verified.text
    return case_id
