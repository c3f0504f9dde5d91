"""Which parser reads which MIME type, and which file extensions map to which type.

Built-in parsers register here through ``register_parser``, the same call a new format
uses. Registering only stores an instance: parsers import their libraries when they parse.
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from pathlib import PurePath

from core.errors import UnsupportedMimeType

from .base import Parser

_PARSERS: dict[str, Parser] = {}
_EXTENSIONS: dict[str, str] = {}


def register_parser(mime_type: str, parser: Parser, *, extensions: Iterable[str] = ()) -> None:
    """Use ``parser`` for ``mime_type`` (parameters ignored); map ``extensions`` (``.md``) to it."""
    essence = mime_essence(mime_type)
    _PARSERS[essence] = parser
    for extension in extensions:
        _EXTENSIONS[extension.lower()] = essence


def parser_for(mime_type: str) -> Parser:
    try:
        return _PARSERS[mime_essence(mime_type)]
    except KeyError:
        raise UnsupportedMimeType(
            f"no parser for MIME type {mime_essence(mime_type)!r}; "
            f"supported: {', '.join(sorted(_PARSERS))}"
        ) from None


def warm_up_parsers() -> None:
    """Import the built-in parsers' libraries now (for worker and API start-up)."""
    from ._offline import warm_up_unstructured

    warm_up_unstructured()


def supported_mime_types() -> frozenset[str]:
    return frozenset(_PARSERS)


def mime_type_for(path_or_name: str | PathLike[str]) -> str | None:
    """The MIME type registered for a file name's extension (case-insensitive), else None."""
    return _EXTENSIONS.get(PurePath(path_or_name).suffix.lower())


def mime_essence(mime_type: str) -> str:
    """``Text/HTML; charset=utf-8`` -> ``text/html``."""
    return mime_type.split(";", 1)[0].strip().lower()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _register_builtins() -> None:
    from .markup import HtmlParser, MarkdownParser
    from .office import DocxParser, PptxParser
    from .pdf import PdfParser
    from .text import PlainTextParser

    register_parser("text/plain", PlainTextParser(), extensions=[".txt", ".text"])
    register_parser("text/markdown", MarkdownParser(), extensions=[".md", ".markdown"])
    register_parser("text/x-markdown", MarkdownParser())
    register_parser("text/html", HtmlParser(), extensions=[".html", ".htm"])
    register_parser("application/xhtml+xml", HtmlParser(), extensions=[".xhtml"])
    register_parser(DOCX, DocxParser(), extensions=[".docx"])
    register_parser(PPTX, PptxParser(), extensions=[".pptx"])
    register_parser("application/pdf", PdfParser(), extensions=[".pdf"])


_register_builtins()
