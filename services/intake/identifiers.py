"""Intake's identifiers: the masks shown for a complainant's phone, ID number, bank card and name, the keyed
references that stand for them in events, the complaint ids and tracking codes handed out, and the normal
form under which spellings of one employer or project match."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from datetime import datetime

from services.common import crypto
from services.contracts.personal_data import mask_name as mask_name  # re-exported: the rule is the contracts'

# -- display and references ----------------------------------------------------------------------------


def mask_phone(phone: str) -> str:
    """139****5678"""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_id_number(id_number: str) -> str:
    """1304**********1234: the region's start and the last four; the birth date is hidden."""
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:] if len(id_number) > 8 else "****"


def mask_bank_card(card: str) -> str:
    """**** 0128"""
    return "**** " + card[-4:] if len(card) >= 8 else "****"


def keyed_reference(value: str, key: bytes, *, prefix: str = "pref") -> str:
    """A stable pseudonym for a phone or ID number in events: HMAC-SHA256 under the deployment's key.

    Delegates to the one implementation the services share, so intake's references match everyone's.
    It is written in base32 rather than hex: a hex digest can hold a run of digits that reads like a
    phone number, which the leak checks rightly refuse.
    """
    return crypto.keyed_reference(value, key, prefix=prefix)


# -- numbering -----------------------------------------------------------------------------------------

# Letters and digits a person reads out over the phone without confusion (no 0/O, 1/I/L).
READABLE = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
COMPLAINT_ID = re.compile(rf"^TS-\d{{8}}-[{READABLE}]{{6}}$")
TRACKING_CODE = re.compile(rf"^[{READABLE}]{{4}}-[{READABLE}]{{4}}$")


def new_complaint_id(now: datetime, *, choose: Callable[[str], str] = secrets.choice) -> str:
    """TS-YYYYMMDD-XXXXXX: sorts by date, carries no personal data, its suffix cannot be guessed."""
    return f"TS-{now:%Y%m%d}-{''.join(choose(READABLE) for _ in range(6))}"


def new_tracking_code(*, choose: Callable[[str], str] = secrets.choice) -> str:
    """Eight readable characters shown as XXXX-XXXX (about 40 bits): the worker's secret for following
    the complaint, easy to read out over the phone."""
    code = "".join(choose(READABLE) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def normalise_complaint_id(value: str) -> str | None:
    """A complaint number as typed (lower case, spaces, full-width) in normal form, or None."""
    compact = re.sub(r"[\s\-_]", "", unicodedata.normalize("NFKC", value or "")).upper()
    if len(compact) != 16 or not compact.startswith("TS"):
        return None
    candidate = f"TS-{compact[2:10]}-{compact[10:]}"
    return candidate if COMPLAINT_ID.match(candidate) else None


def normalise_tracking_code(value: str) -> str | None:
    """A tracking code as typed ("k7qm 3zpa", without the dash) as XXXX-XXXX, or None."""
    compact = re.sub(r"[\s\-_]", "", unicodedata.normalize("NFKC", value or "")).upper()
    candidate = f"{compact[:4]}-{compact[4:]}"
    return candidate if len(compact) == 8 and TRACKING_CODE.match(candidate) else None


# -- matching names ------------------------------------------------------------------------------------

# Legal-form spellings that name the same kind of company (公司法: 有限责任公司 may call itself 有限公司).
LEGAL_FORM_VARIANTS: tuple[tuple[str, str], ...] = (
    ("有限责任公司", "有限公司"),
    ("股份有限公司", "股份公司"),
    ("有限公司有限公司", "有限公司"),
)


def normalise_employer_name(name: str) -> str:
    """One key for the spellings of one employer: full-width folded, case folded, spaces and
    punctuation dropped, the legal-form variants written one way."""
    folded = unicodedata.normalize("NFKC", name or "").upper()
    folded = re.sub(r"[\s\W_]+", "", folded)
    for variant, canonical in LEGAL_FORM_VARIANTS:
        folded = folded.replace(variant, canonical)
    return folded


def normalise_project_name(name: str) -> str:
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", name or "").upper())
