"""Word (.docx) and PowerPoint (.pptx) through unstructured.

Both are ZIP packages, checked first: a non-ZIP gets a plain "not a ZIP package" error, and
a package that would expand past ``MAX_UNZIPPED_BYTES`` is refused before anything
inflates it (a zip bomb would otherwise take the worker's memory).

Word: "Heading N" styles become heading level N; a paragraph in the "Title" style becomes
the "title" element (unstructured gives it the same depth as "Heading 1", so we read the
styles with python-docx to tell them apart). Running headers and footers are dropped.
PowerPoint: each slide's title is a level-1 heading; everything else on the slide is body.
Speaker notes are left out: unstructured emits them before the slide's title, which would
file them under the previous slide.
"""

from __future__ import annotations

import io
import zipfile

from core.errors import DocumentUnparseable
from core.types import Element

from ._elements import to_elements
from ._offline import prepare_unstructured

MAX_UNZIPPED_BYTES = 1 << 30


class DocxParser:
    def parse(self, content: bytes, *, mime_type: str) -> list[Element]:
        _check_package(content, label="DOCX")
        prepare_unstructured()
        from unstructured.partition.docx import partition_docx

        try:
            found = partition_docx(file=io.BytesIO(content), languages=[""])
            titles = _docx_title_texts(content)
        except Exception as exc:
            raise DocumentUnparseable(f"not a readable DOCX file ({type(exc).__name__})") from exc
        return to_elements(found, title_texts=titles)


class PptxParser:
    def parse(self, content: bytes, *, mime_type: str) -> list[Element]:
        _check_package(content, label="PPTX")
        prepare_unstructured()
        from unstructured.partition.pptx import partition_pptx

        try:
            found = partition_pptx(
                file=io.BytesIO(content), languages=[""], include_slide_notes=False
            )
        except Exception as exc:
            raise DocumentUnparseable(f"not a readable PPTX file ({type(exc).__name__})") from exc
        return to_elements(found, max_heading_depth=0)


def _check_package(content: bytes, *, label: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            unzipped = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentUnparseable(f"not a {label} file (not a ZIP package)") from exc
    if unzipped > MAX_UNZIPPED_BYTES:
        raise DocumentUnparseable(
            f"{label} package would expand to {unzipped} bytes (limit {MAX_UNZIPPED_BYTES})"
        )


def _docx_title_texts(content: bytes) -> frozenset[str]:
    import docx

    document = docx.Document(io.BytesIO(content))
    title_ids = {style.style_id for style in document.styles if style.name == "Title"}
    if not title_ids:
        return frozenset()
    # ``paragraph.style`` resolves the default style on every call (2 s for 1,800
    # paragraphs); the style id on the paragraph's XML is what we need.
    return frozenset(
        " ".join(p.text.split())
        for p in document.paragraphs
        if p._p.style in title_ids and p.text.strip()
    )
