"""What the blacklist workflow's activities share (`listing_documents.py`, `listing_publication.py`,
`activities.py`): the engines they are built with (the sanctions pool, so only this service writes its
tables; the settings; the cipher of sealed fields), the listing read and locked for a step, and the listed
employer as the case facts know it; the contexts the responsible persons' names and the sealed documents are
sealed under (the API opens them with the same: `listing_actions.py`); and the log the activities write to."""

from __future__ import annotations

import logging
from typing import Any

from psycopg_pool import AsyncConnectionPool
from temporalio.exceptions import ApplicationError

from services.common.crypto import FieldCipher
from services.sanctions import domain, store
from services.sanctions.settings import SanctionsSettings

# One logger for all the activities, whichever module holds them: their lines in the worker's log are found
# under one name (`services/common/logs.py` writes the logger's name in every line).
log = logging.getLogger("services.sanctions.activities")

DOCUMENT_CONTEXT = "sanctions.documents"
PERSON_NAME_CONTEXT = "sanctions.responsible_persons.name"


class ListingActivityBase:
    def __init__(self, pool: AsyncConnectionPool, settings: SanctionsSettings, cipher: FieldCipher) -> None:
        self._pool = pool
        self._settings = settings
        self._cipher = cipher

    async def _listing(self, conn: store.Conn, listing_id: str) -> dict[str, Any]:
        listing = await store.get_listing(conn, listing_id, lock=True)
        if listing is None:
            raise ApplicationError(f"listing {listing_id} is not recorded", non_retryable=True)
        return listing

    async def _employer(self, conn: store.Conn, listing: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        """Name, credit code and project of the listed employer, from the case facts intake announced."""
        facts = await store.case_facts(conn, listing["case_id"])
        code = (facts or {}).get("employer_credit_code") or domain.credit_code_of(listing["employer_ref"])
        return (facts or {}).get("employer_name"), code, (facts or {}).get("project_name")
