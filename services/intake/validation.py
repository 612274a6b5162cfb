"""Intake's entry points for a whole record: a complaint submission and a site registration checked field by
field (`field_checks.py`), every failure raised at once as `SubmissionInvalid` (`domain.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from services.contracts.owed_period import past_violation_limit
from services.intake.domain import (
    CHANNELS,
    SITE_ID,
    SITE_TEXT_LIMITS,
    STALE_AFTER_YEARS,
    TEXT_LIMITS,
    ComplaintSubmission,
    FieldError,
    SiteRegistration,
    SubmissionInvalid,
)
from services.intake.field_checks import (
    check_amount,
    check_bank_card,
    check_county,
    check_credit_code,
    check_date,
    check_id_number,
    check_phone,
    check_worker_name,
    check_workers_affected,
    folded_ascii,
    free_text,
    length_error,
    raw_value,
)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return folded_ascii(value).lower() in ("true", "1", "on", "yes", "y", "是", "保密")


# -- the one entry point -------------------------------------------------------------------------------


def validate_submission(
    raw: Mapping[str, Any],
    *,
    counties: Mapping[str, str],
    today: date,
    stale_after_years: int = STALE_AFTER_YEARS,
) -> ComplaintSubmission:
    """Check every rule; raise `SubmissionInvalid` listing each failing field (in form order).

    `today` is the China Standard Time date (`services/contracts/legal_time.py`): no date may lie after it,
    and the violation limit is judged on it.
    """
    errors: list[FieldError] = []

    def keep(result: tuple[Any, FieldError | None]) -> Any:
        value, error = result
        if error is not None:
            errors.append(error)
        return value

    worker_name = keep(check_worker_name(raw_value(raw, "worker_name")))
    id_number = keep(check_id_number(raw_value(raw, "id_number"), today=today))
    phone = keep(check_phone(raw_value(raw, "phone")))
    bank_card = keep(check_bank_card(raw_value(raw, "bank_card")))

    texts = {
        name: free_text(raw_value(raw, name), multiline=name == "description")
        for name in ("employer_name", "project_name", "description")
    }
    for name in ("employer_name", "project_name"):
        keep((None, length_error(name, texts[name], TEXT_LIMITS[name])))
    credit_code = keep(check_credit_code(raw_value(raw, "employer_credit_code")))

    site_id = folded_ascii(raw_value(raw, "site_id")) or None
    if site_id and not SITE_ID.match(site_id):
        errors.append(FieldError("site_id", "invalid", "项目编号不正确，请重新扫码 / not a valid site id"))
    county = keep(check_county(raw_value(raw, "county_code"), counties))

    start = keep(check_date(raw_value(raw, "period_start"), field="period_start", today=today))
    end = keep(check_date(raw_value(raw, "period_end"), field="period_end", today=today))
    if start and end and start > end:
        errors.append(
            FieldError(
                "period_end", "before_start", "结束日期不能早于开始日期 / the end of the period is before its start"
            )
        )
    amount = keep(check_amount(raw_value(raw, "amount_owed")))
    workers = keep(check_workers_affected(raw_value(raw, "workers_affected")))
    keep((None, length_error("description", texts["description"], TEXT_LIMITS["description"])))

    channel = folded_ascii(raw_value(raw, "channel")) or "clerk"
    if channel not in CHANNELS:
        errors.append(
            FieldError("channel", "invalid", f"提交渠道不正确 / channel must be one of {', '.join(CHANNELS)}")
        )

    if errors:
        raise SubmissionInvalid(errors)
    assert end is not None  # for the type checker: no errors means every value was read
    return ComplaintSubmission(
        worker_name=worker_name,
        id_number=id_number,
        phone=phone,
        bank_card=bank_card,
        employer_name=texts["employer_name"],
        employer_credit_code=credit_code,
        site_id=site_id,
        project_name=texts["project_name"],
        county_code=county,
        period_start=start,
        period_end=end,
        amount_owed=amount,
        workers_affected=workers,
        description=texts["description"],
        confidential=_truthy(raw.get("confidential")),
        channel=channel,  # type: ignore[arg-type]
        # `today` is the China date (`Intake.today`), as the workflow judges the same limit on receipt.
        stale_for_rejection=past_violation_limit(end, today, years=stale_after_years),
    )


def validate_site_registration(raw: Mapping[str, Any], *, counties: Mapping[str, str]) -> SiteRegistration:
    errors: list[FieldError] = []
    site_id = folded_ascii(raw_value(raw, "site_id"))
    if not SITE_ID.match(site_id):
        errors.append(
            FieldError("site_id", "invalid", "项目编号为3到40位字母、数字或短横线 / 3 to 40 letters, digits or dashes")
        )
    texts = {name: free_text(raw_value(raw, name)) for name in SITE_TEXT_LIMITS}
    for name, limits in SITE_TEXT_LIMITS.items():
        error = length_error(name, texts[name], limits)
        if error:
            errors.append(error)
    county, error = check_county(raw_value(raw, "county_code"), counties)
    if error:
        errors.append(error)
    codes: dict[str, str | None] = {}
    for field in ("owner_credit_code", "general_contractor_credit_code"):
        codes[field], error = check_credit_code(raw_value(raw, field), field)
        if error:
            errors.append(error)
    if errors:
        raise SubmissionInvalid(errors)
    return SiteRegistration(
        site_id=site_id,
        name=texts["name"],
        county_code=county or "",
        address=texts["address"],
        owner_name=texts["owner_name"] or None,
        general_contractor=texts["general_contractor"] or None,
        **codes,
    )


def validate_site(raw: Mapping[str, Any], *, counties: Mapping[str, str]) -> dict[str, Any]:
    """`validate_site_registration` as the plain dict the store writes."""
    return validate_site_registration(raw, counties=counties).model_dump()
