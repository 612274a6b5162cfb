"""How complaints find their case: the references that name an employer, a project and their case.

A case is the complaints against one employer on one project (domain.md §3 step 2). The employer is
known by its unified social credit code when given, or when intake's employer register knows the code for its
normalised name in the county (`identify_employer`), otherwise by its normalised name; the project by its
registered site, otherwise by its normalised name within the county; an early-warning case (opened on a
project's warning, not by a complaint) by the project's general contractor and the register's project
(`early_warning_case_id`). The references are short hashes:
safe in workflow ids and search attributes, the same wherever they are computed. (Inspectors can merge
or split cases in the cases service, which keeps the mapping from then on.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from typing import Literal, NamedTuple

from services.contracts.intake_events import ComplaintSubmitted
from services.contracts.lifecycle import check_business_id


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16].upper()


# How a complaint's employer got the credit code it is grouped by.
EmployerBasis = Literal["given", "linked", "learnt", "name", "ambiguous"]


class EmployerIdentity(NamedTuple):
    credit_code: str | None
    basis: EmployerBasis


def identify_employer(given: str | None, linked: str | None, learnt: Collection[str]) -> EmployerIdentity:
    """The credit code a complaint's employer is known by (intake's employer register, one county).

    Two complaints naming one employer once by credit code and once by name alone must meet in one case, or
    the workers and amounts that the thresholds sum (the 10-worker test) are split between two. So a name
    alone takes the code its county's register holds for the same normalised name: the one an inspector
    linked to it (`linked`, an explicit decision, which wins), else the one code complaints that gave both
    have named with it (`learnt`). Two different learnt codes for one name are two employers sharing a name
    (or a typo): nothing is guessed, the name stays its own employer until an inspector links it.
    """
    if given:
        return EmployerIdentity(given, "given")
    if linked:
        return EmployerIdentity(linked, "linked")
    codes = set(learnt)
    if len(codes) == 1:
        return EmployerIdentity(next(iter(codes)), "learnt")
    return EmployerIdentity(None, "ambiguous" if codes else "name")


def employer_credit_code(complaint: ComplaintSubmitted) -> str | None:
    """The credit code a complaint's employer is grouped by: the one it gave, else the register's match."""
    return complaint.employer_credit_code or complaint.employer_matched_credit_code


def employer_ref(credit_code: str | None, normalised_name: str) -> str:
    if credit_code:
        return f"E-{credit_code.strip().upper()}"
    return f"E-N{_digest('employer-name', normalised_name)}"


def project_ref(site_id: str | None, county_code: str, normalised_project_name: str) -> str:
    if site_id:
        return f"P-{site_id}"
    return f"P-N{_digest('project', county_code, normalised_project_name)}"


def case_id_for(employer: str, project: str) -> str:
    case_id = f"C-{_digest('case', employer, project)}"
    try:
        return check_business_id(case_id, "case id")
    except ValueError:
        # About one digest in 2,000 holds eleven decimal digits shaped like a mobile number, which no
        # workflow id may carry. Only those ids are cut into runs of at most ten digits (a '-' never
        # appears in a digest, so the result cannot meet another case's id); every other id is unchanged.
        return re.sub(r"\d{11,}", lambda run: "-".join(re.findall(r"\d{1,10}", run.group())), case_id)


def registered_project_ref(project_id: str, round_: int = 1) -> str:
    """A project of the monitoring service's register, for its early-warning cases: a digest of the register's
    id (a site id may look like anything, so the register's id is not used as it is), one more input for its
    second and later cases."""
    if round_ < 1:
        raise ValueError(f"an early-warning case's round counts from 1, not {round_}")
    parts = ("registered-project", project_id) if round_ == 1 else ("registered-project", project_id, str(round_))
    return f"P-R{_digest(*parts)}"


def early_warning_case_id(general_contractor_credit_code: str, project_id: str, round_: int = 1) -> str:
    """The id of a project's `round_`-th early-warning case (预警案件): the case of its general contractor, who
    pays the project's workers (总包代发), on the registered project. The same project gives the same id, so a
    redelivered warning finds its case; a case opened after the project's earlier one closed is its next round,
    a case of its own (a workflow id is never started twice)."""
    return case_id_for(employer_ref(general_contractor_credit_code, ""), registered_project_ref(project_id, round_))


class CaseRefs(NamedTuple):
    employer: str
    project: str
    case_id: str


def case_refs(complaint: ComplaintSubmitted) -> CaseRefs:
    """The employer, the project and the case of a complaint as intake published it."""
    employer = employer_ref(employer_credit_code(complaint), complaint.employer_name_key)
    project = project_ref(complaint.site_id, complaint.county_code, complaint.project_name)
    return CaseRefs(employer, project, case_id_for(employer, project))
