"""The intake worker's evidence sweep: files no complaint references, once past a grace period, are deleted.

Files are written when a complaint is filed (the form) or uploaded ahead of it (an agency's `POST
/v1/evidence`, referenced by a complaint filed later). A file no complaint came to reference — an upload
whose complaint was never filed, or whose filing failed after the write — is personal data kept for
nothing. Every interval, the files older than the grace period are looked up in `complaints.evidence`
(a GIN index, migration 0005) and those found nowhere are deleted; a file uploaded again in the meantime
had its time refreshed by the upload and waits another grace period.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from psycopg_pool import ConnectionPool

from services.intake.evidence import LocalEvidenceStore

log = logging.getLogger(__name__)

BATCH = 500
_UNREFERENCED = """
SELECT sha FROM unnest(%s::text[]) AS sha
WHERE NOT EXISTS (SELECT 1 FROM complaints WHERE evidence @> jsonb_build_array(jsonb_build_object('sha256', sha)))
"""


def unreferenced(conn: Any, candidates: list[str]) -> list[str]:
    """Those of `candidates` (sha256 references) that no complaint's evidence names."""
    return [row["sha"] for row in conn.execute(_UNREFERENCED, (candidates,))]


def sweep_once(pool: ConnectionPool, evidence: LocalEvidenceStore, *, grace_seconds: float) -> int:
    """One sweep; how many files were deleted."""
    cutoff = time.time() - grace_seconds
    old = evidence.stored_before(cutoff)
    deleted = 0
    for start in range(0, len(old), BATCH):
        with pool.connection() as conn:
            orphans = unreferenced(conn, old[start : start + BATCH])
        deleted += evidence.sweep(orphans, cutoff)
    if not old:
        evidence.sweep([], cutoff)  # upload leftovers only
    return deleted


class EvidenceSweeper:
    """A worker component: `sweep_once` every `interval_seconds` until stopped."""

    def __init__(
        self, pool: ConnectionPool, evidence: LocalEvidenceStore, *, grace_seconds: float, interval_seconds: float
    ) -> None:
        self.pool = pool
        self.evidence = evidence
        self.grace_seconds = grace_seconds
        self.interval_seconds = interval_seconds
        self.last_error: str | None = None
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                deleted = sweep_once(self.pool, self.evidence, grace_seconds=self.grace_seconds)
                if deleted:
                    log.info("evidence sweep deleted %d unreferenced files", deleted)
                self.last_error = None
            except Exception as exc:  # the next round tries again; readiness is not affected by a sweep
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("evidence sweep failed: %s", self.last_error)
            self._stop.wait(self.interval_seconds)

    def stop(self) -> None:
        self._stop.set()
