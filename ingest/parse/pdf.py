"""PDF text through pypdfium2 directly (not unstructured's ``partition_pdf``, which imports
``unstructured_inference`` and its CUDA-sized dependencies even for ``strategy="fast"``).

pdfium reports text as rectangles (runs of text on one line) in content order, and the
font size of each character. ``_layout.py`` turns those into paragraphs and headings.
PDFium is not thread-safe, so every call into it holds ``_PDFIUM_LOCK``.
A PDF without a text layer (a scan) has no elements: ``parse_document`` reports it empty.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from core.errors import DocumentUnparseable
from core.types import Element

from ._layout import TextRun, to_elements

if TYPE_CHECKING:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

_PDFIUM_LOCK = threading.Lock()


class PdfParser:
    def parse(self, content: bytes, *, mime_type: str) -> list[Element]:
        with _PDFIUM_LOCK:
            runs = _read_runs(content)
        return to_elements(runs)


def _read_runs(content: bytes) -> list[TextRun]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(content)
    except pdfium.PdfiumError as exc:
        raise DocumentUnparseable(f"not a readable PDF ({exc})") from exc
    try:
        runs: list[TextRun] = []
        for index in range(len(document)):
            page = document[index]
            try:
                runs.extend(_page_runs(page, index))
            finally:
                page.close()
        return runs
    except pdfium.PdfiumError as exc:
        raise DocumentUnparseable(f"could not read the PDF's text ({exc})") from exc
    finally:
        document.close()


def _page_runs(page: pdfium.PdfPage, index: int) -> list[TextRun]:
    import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

    textpage = page.get_textpage()
    try:
        runs: list[TextRun] = []
        for rect in range(textpage.count_rects()):
            left, bottom, right, top = textpage.get_rect(rect)
            text = " ".join(textpage.get_text_bounded(left, bottom, right, top).split())
            if not text:
                continue
            char = textpage.get_index(left + 0.5, (top + bottom) / 2, 2.0, 2.0)
            size = pdfium_c.FPDFText_GetFontSize(textpage.raw, char) if char is not None else 0.0
            size = size or top - bottom
            runs.append(TextRun(text, page=index, top=top, bottom=bottom, size=size))
        return runs
    finally:
        textpage.close()
