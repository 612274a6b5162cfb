"""Case ids are digests; the few digests shaped like a mobile number must still make a valid workflow id."""

from __future__ import annotations

import itertools

from services.contracts.cases import _digest, case_id_for
from services.contracts.lifecycle import case_workflow_id, check_business_id


def first_employer(looks_like_phone: bool) -> str:
    for n in itertools.count():
        employer = f"E-N{n:08d}"
        try:
            check_business_id(f"C-{_digest('case', employer, 'P-1')}")
        except ValueError:
            if looks_like_phone:
                return employer
        else:
            if not looks_like_phone:
                return employer
    raise AssertionError("unreachable")


def test_a_digest_shaped_like_a_mobile_number_is_cut_into_a_valid_case_id() -> None:
    employer = first_employer(looks_like_phone=True)
    digest = _digest("case", employer, "P-1")
    case_id = case_id_for(employer, "P-1")
    assert case_workflow_id(case_id) == f"case:{case_id}"  # refused before: the workflow could never start
    assert case_id != f"C-{digest}" and case_id.replace("-", "") == f"C{digest}"
    assert case_id == case_id_for(employer, "P-1")  # the same wherever it is computed


def test_every_other_case_id_is_unchanged() -> None:
    employer = first_employer(looks_like_phone=False)
    assert case_id_for(employer, "P-1") == f"C-{_digest('case', employer, 'P-1')}"
