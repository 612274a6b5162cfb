"""Reading the project's PDFs in tests."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_words(pdf: bytes) -> str:
    """The paper's words without its line breaks: where a line wraps depends on the names in it."""
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
