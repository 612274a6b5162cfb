"""Well-formed test identities for the integration suites — never a real person's.

One generator for every suite, so that two complaints filed in the same test run only share a person when
a test means them to: a birth date and a sequence number spread over some 13 million distinct ID numbers.
"""

from __future__ import annotations

from stdnum.cn import ric


def sample_id_number(n: int) -> str:
    """An 18-character resident ID number (Beijing Dongcheng) whose birth date and sequence follow `n`."""
    year = 1960 + n % 40
    month = 1 + (n // 40) % 12
    day = 1 + (n // 480) % 28
    sequence = (n // 13_440) % 1000
    body = f"110101{year}{month:02d}{day:02d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")
