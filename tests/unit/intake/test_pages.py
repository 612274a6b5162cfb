"""The worker's pages: fields named as the model, errors beside their fields, values kept, everything
escaped, small enough for a slow network."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest

from services.intake import domain, pages

SITE = {
    "site_id": "HD-2026-0001",
    "name": "邯山区某安置房项目",
    "county_code": "130402",
    "county_name": "邯山区",
    "address": "人民路1号",
    "general_contractor": "某建工集团有限公司",
}


class Inputs(HTMLParser):
    """The names of the form's controls, and which are hidden."""

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("input", "select", "textarea") and attributes.get("name"):
            self.names[str(attributes["name"])] = str(attributes.get("type") or tag)


def controls(html: str) -> dict[str, str]:
    parser = Inputs()
    parser.feed(html)
    return parser.names


def form(
    site: dict[str, str] | None = None, values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> str:
    return pages.render_form(site, domain.DEFAULT_COUNTIES, values or {}, errors or {}, today=date(2026, 11, 28))


def test_the_forms_fields_are_the_submissions_fields() -> None:
    submitted = set(controls(form())) - {"form_token", "evidence"}
    assert submitted == set(domain.ComplaintSubmission.model_fields) - {"site_id", "channel", "stale_for_rejection"}


def test_the_form_from_a_qr_link_shows_the_site_instead_of_asking() -> None:
    html = form(SITE)
    names = controls(html)
    assert names["site_id"] == "hidden" and "county_code" not in names and "project_name" not in names
    assert 'name="site_id" value="HD-2026-0001"' in html
    assert "邯山区某安置房项目" in html and "邯山区" in html and "人民路1号" in html and "某建工集团有限公司" in html


def test_without_a_site_the_worker_picks_the_county_and_types_the_project() -> None:
    html = form(values={"county_code": "130403"})
    assert controls(html)["county_code"] == "select" and "project_name" in controls(html)
    assert all(name in html for name in domain.DEFAULT_COUNTIES.values())
    assert '<option value="130403" selected>丛台区</option>' in html


def test_errors_are_shown_next_to_their_fields_in_chinese() -> None:
    html = form(values={"phone": "12"}, errors={"phone": "请填写11位手机号码（1开头） / an 11-digit mainland number"})
    field = re.search(r'<div class="field invalid">.*?</div>', html, re.S)
    assert field is not None and 'id="phone"' in field.group(0)
    assert '<p class="error" id="phone-error">请填写11位手机号码（1开头）</p>' in field.group(0)
    assert 'aria-invalid="true"' in field.group(0) and "phone-error" in field.group(0)
    assert "an 11-digit" not in html  # the worker reads Chinese only
    assert '<a href="#phone">手机号码</a>' in html and "有 1 处需要修改" in html


def test_the_workers_values_are_kept() -> None:
    values = {
        "worker_name": "王五",
        "phone": "12",
        "description": "六月到九月的工资没发。",
        "county_code": "130481",
        "period_start": "2026-06-01",
        "confidential": "true",
        "form_token": "token-1",
    }
    html = form(values=values, errors={"phone": "手机号码不对"})
    assert 'value="王五"' in html and 'value="12"' in html and 'value="2026-06-01"' in html
    assert ">六月到九月的工资没发。</textarea>" in html and 'value="130481" selected' in html
    assert 'name="confidential" value="true" checked' in html
    assert 'name="form_token" value="token-1"' in html  # a resend of the same form files once


def test_every_page_has_a_fresh_form_token() -> None:
    tokens = {re.search(r'name="form_token" value="([^"]+)"', form()).group(1) for _ in range(5)}  # type: ignore[union-attr]
    assert len(tokens) == 5


def test_the_folded_bank_card_opens_when_it_holds_a_value_or_an_error() -> None:
    folded = re.search(r"<details.*?</details>", form(), re.S)
    assert folded is not None and 'name="bank_card"' in folded.group(0) and '<details class="more">' in folded.group(0)
    assert '<details class="more" open>' in form(errors={"bank_card": "银行卡号有误"})
    assert '<details class="more" open>' in form(values={"bank_card": "6222"})


def test_every_field_a_clerk_or_test_fills_is_visible_without_unfolding() -> None:
    outside = re.sub(r"<details.*?</details>", "", form(), flags=re.S)
    for name in set(pages.FORM_FIELDS) - set(pages.FOLDED_FIELDS):
        assert f'name="{name}"' in outside


def test_errors_of_fields_not_on_the_page_are_listed_at_the_top() -> None:
    html = form(
        SITE,
        errors={
            "site_id": "项目编号不正确，请重新扫码 / bad",
            "county_code": "请选择所在区县",
            "_form": "提交次数过多，请稍后再试",
        },
    )
    alert = re.search(r'<div class="alert".*?</div>', html, re.S)
    assert alert is not None
    assert "提交次数过多" in alert.group(0) and "项目编号不正确，请重新扫码" in alert.group(0)
    assert "请选择所在区县" in alert.group(0)


def test_everything_the_worker_typed_is_escaped() -> None:
    attack = '"><script>alert(1)</script>'
    html = form(
        SITE | {"name": attack},
        values={"worker_name": attack, "description": "</textarea>" + attack},
        errors={"phone": attack},
    )
    assert "<script>alert(1)</script>" not in html and "</textarea><script>" not in html
    assert "&lt;script&gt;" in html and "&#34;&gt;" in html


def test_the_action_and_limits_are_configurable() -> None:
    html = pages.render_form(
        None, {"130102": "长安区"}, {}, {}, action="/other/form", max_files=3, max_bytes=5 * 1024 * 1024
    )
    assert 'action="/other/form"' in html and 'enctype="multipart/form-data"' in html
    assert "最多 3 个，每个不超过 5MB" in html and "长安区" in html and "邯山区" not in html


def test_dates_cannot_be_picked_after_today() -> None:
    assert html_attribute(form(), "period_end", "max") == "2026-11-28"


def html_attribute(html: str, element_id: str, attribute: str) -> str | None:
    tag = re.search(rf'<input id="{element_id}"[^>]*>', html)
    assert tag is not None
    value = re.search(rf'{attribute}="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def test_touch_targets_and_inputs_suit_a_phone() -> None:
    html = form()
    assert html_attribute(html, "phone", "inputmode") == "numeric" and html_attribute(html, "phone", "type") == "tel"
    assert html_attribute(html, "amount_owed", "inputmode") == "decimal"
    assert html_attribute(html, "id_number", "autocapitalize") == "characters"
    css = (pages.STATIC / "form.css").read_text()
    assert "min-height:48px" in css and "min-height:56px" in css


def test_the_pages_are_small() -> None:
    weight = len(form(errors={f: "错误" for f in pages.FORM_FIELDS}).encode())
    weight += sum(len(p.read_bytes()) for p in pages.STATIC.iterdir())
    assert weight < 30 * 1024


def test_no_inline_script_or_style_the_pages_policy_would_block() -> None:
    for html in (
        form(SITE),
        pages.render_submitted("TS-20261128-ABCDEF", "K7QM-3ZPA"),
        pages.render_status_form(),
        pages.render_status({"complaint_id": "TS-20261128-ABCDEF"}),
    ):
        assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "<style" not in html and " style=" not in html
        assert " on" not in re.sub(r'"[^"]*"', '""', "".join(re.findall(r"<[^>]+>", html)))


def test_the_submitted_page_shows_both_numbers_large_and_how_to_follow() -> None:
    html = pages.render_submitted("TS-20261128-ABCDEF", "K7QM-3ZPA", status_url="https://anxin.example/status")
    assert '<span class="code" id="complaint-id">TS-20261128-ABCDEF</span>' in html
    assert '<span class="code" id="tracking-code">K7QM-3ZPA</span>' in html
    assert '<a href="https://anxin.example/status">https://anxin.example/status</a>' in html
    assert "5 个工作日" in html and "12333" in html and 'name="robots" content="noindex"' in html


def test_the_status_form_keeps_the_number_but_never_the_code() -> None:
    html = pages.render_status_form(
        {"complaint_id": "TS-20261128-ABCDEF", "tracking_code": "W4XY-8RTB"}, "投诉编号或查询码不正确 / not found"
    )
    assert 'value="TS-20261128-ABCDEF"' in html and "W4XY-8RTB" not in html
    assert "投诉编号或查询码不正确" in html and "not found" not in html
    assert 'action="/status"' in html and controls(html).keys() == {"complaint_id", "tracking_code"}


def test_the_status_page_tells_the_story_in_plain_language() -> None:
    html = pages.render_status(
        {
            "complaint_id": "TS-20261128-ABCDEF",
            "stage": "in_case",
            "case_stage": "payment",
            "overdue": True,
            "next_deadline": "2026-12-05T16:30:00+00:00",
            "closure_reason": None,
            "timeline": [
                {"at": "2026-11-28T17:00:00+00:00", "kind": "complaint.submitted", "text": "投诉已提交，系统已登记。"},
                {"at": datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "kind": "complaint.accepted", "text": "已受理。"},
            ],
        }
    )
    assert "已受理，正在调查处理" in html and "等待用人单位在期限内支付工资" in html
    assert "2026-12-06" in html  # deadlines and events are dated in China's time
    assert "已超过办理期限" in html
    entries = re.findall(r"<li><time[^>]*>([^<]+)</time> ([^<]+)</li>", html)
    assert entries == [("2026-11-29", "投诉已提交，系统已登记。"), ("2026-12-01", "已受理。")]


@pytest.mark.parametrize("reason", list(pages.STATUS_TEXTS["closure_reason"]))
def test_every_closure_reason_has_words(reason: str) -> None:
    html = pages.render_status({"complaint_id": "TS-20261128-ABCDEF", "stage": "done", "closure_reason": reason})
    assert pages.STATUS_TEXTS["closure_reason"][reason] in html and "已办结" in html


def test_a_status_view_from_the_intake_record_alone_renders() -> None:
    html = pages.render_status(
        {"complaint_id": "TS-20261128-ABCDEF", "stage": "received", "stage_text": "已收到，等待受理", "timeline": []}
    )
    assert "已收到，等待受理" in html and "暂无记录" in html


def test_status_texts_cover_the_process_stages() -> None:
    from services.contracts.lifecycle import CaseStage, ClosureReason, ComplaintStage

    assert {s.value for s in ComplaintStage} <= set(pages.STATUS_TEXTS["stage"])
    assert {s.value for s in CaseStage} <= set(pages.STATUS_TEXTS["case_stage"])
    assert {s.value for s in ClosureReason} <= set(pages.STATUS_TEXTS["closure_reason"])
