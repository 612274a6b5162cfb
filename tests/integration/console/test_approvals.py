"""The city office's approval of the quarterly list of major violations on the real stack, as a browser without
JavaScript uses it: a quarter drafted through the console, the sanctions API's own message next to the field
for a quarter it refuses, the draft approved and published with the person's token; a county inspector gets
the not-found page and cannot approve, and a form without its CSRF token does nothing."""

from __future__ import annotations

import random
import re

import pytest

from deploy.stack import Stack
from tests.support.console_agencies import csrf_of, signed_in_as
from tests.support.people import add_person

COUNTY = "130403"
PUBLICATION = "/approvals/publication"


@pytest.fixture(scope="module")
def sanctions_api(stack: Stack, console: str) -> None:
    stack.start_processes(["sanctions-api"], timeout=120)


@pytest.fixture(scope="module")
def city_officer(stack: Stack, sanctions_api: None) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "city_office")
    return person_id, password


@pytest.fixture(scope="module")
def inspector(stack: Stack, sanctions_api: None) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", COUNTY)
    return person_id, password


def _unlisted_quarter(page: str) -> str:
    """A past quarter that has no list yet (a quarter long gone: its list holds no case of this stack)."""
    quarters = [f"{year}-Q{q}" for year in range(2001, 2020) for q in range(1, 5)]
    free = [quarter for quarter in quarters if quarter not in page]
    assert free, "every test quarter already has a list"
    return random.choice(free)


def test_the_city_office_drafts_and_approves_a_quarter_list(
    console: str, city_officer: tuple[str, str], inspector: tuple[str, str]
) -> None:
    with signed_in_as(console, *city_officer) as city:
        listed = city.get(PUBLICATION)
        assert listed.status_code == 200 and "重大违法行为社会公布审批" in listed.text
        csrf = csrf_of(listed)
        quarter = _unlisted_quarter(listed.text)
        list_id = f"PL-{quarter}"

        # The sanctions API refuses a quarter out of its pattern: its message is shown next to the field.
        refused = city.post(f"{PUBLICATION}/drafts", data={"csrf": csrf, "quarter": "2026-Q5"})
        assert refused.status_code == 422, refused.text
        assert re.search(r'<span class="error">[^<]+</span>', refused.text), refused.text
        assert 'value="2026-Q5"' in refused.text

        # Without the CSRF token the form does nothing.
        assert city.post(f"{PUBLICATION}/drafts", data={"quarter": quarter}).status_code == 403
        assert list_id not in city.get(PUBLICATION).text

        drafted = city.post(f"{PUBLICATION}/drafts", data={"csrf": csrf, "quarter": quarter.lower()})
        assert drafted.status_code == 303, drafted.text
        assert drafted.headers["location"] == f"{PUBLICATION}?drafted={list_id}"
        shown = city.get(drafted.headers["location"])
        assert f"已生成公布名单草稿 {list_id}" in shown.text
        assert f'action="{PUBLICATION}/{list_id}/approval"' in shown.text

    with signed_in_as(console, *inspector) as county:
        page = county.get(PUBLICATION)
        assert page.status_code == 404 and "未找到" in page.text
        assert f'href="{PUBLICATION}"' not in page.text  # not in the inspector's header
        tried = county.post(f"{PUBLICATION}/{list_id}/approval", data={"csrf": csrf_of(page)})
        assert tried.status_code == 404 and "未找到" in tried.text

    with signed_in_as(console, *city_officer) as city:
        page = city.get(PUBLICATION)
        assert f'action="{PUBLICATION}/{list_id}/approval"' in page.text  # still a draft after the inspector
        assert f'href="{PUBLICATION}"' in page.text  # in the city office's header
        csrf = csrf_of(page)
        assert city.post(f"{PUBLICATION}/{list_id}/approval", data={}).status_code == 403
        missing = city.post(f"{PUBLICATION}/PL-2000-Q1/approval", data={"csrf": csrf})
        assert missing.status_code == 404 and "未找到" in missing.text

        approved = city.post(f"{PUBLICATION}/{list_id}/approval", data={"csrf": csrf})
        assert approved.status_code == 303, approved.text
        assert approved.headers["location"] == f"{PUBLICATION}?approved={list_id}"
        shown = city.get(approved.headers["location"])
        assert f"已批准并公布名单 {list_id}" in shown.text
        assert f'action="{PUBLICATION}/{list_id}/approval"' not in shown.text
        published = re.search(rf"<li>{quarter} 季度（{list_id}）[^<]*</li>", shown.text)
        assert published, shown.text
        assert f"批准人 person:{city_officer[0]}" in published.group(0)

        # Approving again (a resubmitted form) leaves it published once.
        again = city.post(f"{PUBLICATION}/{list_id}/approval", data={"csrf": csrf})
        assert again.status_code == 303
        assert len(re.findall(rf"<li>{quarter} 季度", city.get(PUBLICATION).text)) == 1
