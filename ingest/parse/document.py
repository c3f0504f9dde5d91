"""``parse_document``: the checks every format shares, then the registered parser.

Order matters for what a caller is told: size first (it is refused without looking
inside), then the type, then emptiness. Every refusal is a ``core.errors.DocumentError``
whose message describes the problem without quoting the document.
"""

from __future__ import annotations

import logging
import time

from core.errors import DocumentEmpty, DocumentTooLarge
from core.types import Element, RawDocument

from .registry import mime_essence, parser_for

logger = logging.getLogger(__name__)


def parse_document(raw: RawDocument, *, max_bytes: int) -> list[Element]:
    """The elements of ``raw`` in reading order: stripped, never empty, at least one."""
    size = len(raw.content)
    if size > max_bytes:
        raise DocumentTooLarge(
            f"document is {size} bytes; the limit is {max_bytes} (CLEARANCE_MAX_UPLOAD_BYTES)"
        )
    parser = parser_for(raw.mime_type)
    if size == 0:
        raise DocumentEmpty("document has no content (0 bytes)")
    started = time.perf_counter()
    elements = _cleaned(parser.parse(raw.content, mime_type=raw.mime_type))
    if not elements:
        raise DocumentEmpty("no text found in the document")
    logger.debug(
        "parsed external_id=%s mime=%s bytes=%d elements=%d duration_ms=%.1f",
        raw.external_id, mime_essence(raw.mime_type), size, len(elements),
        (time.perf_counter() - started) * 1000,
    )
    return elements


def _cleaned(elements: list[Element]) -> list[Element]:
    out: list[Element] = []
    for element in elements:
        text = element.text.strip()
        if text:
            out.append(element if text == element.text else _with_text(element, text))
    return out


def _with_text(element: Element, text: str) -> Element:
    return Element(kind=element.kind, text=text, level=element.level)
