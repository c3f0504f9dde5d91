"""Parsing: document bytes to structural elements, one ``Parser`` per MIME type."""

from .base import Parser
from .document import parse_document
from .registry import (
    DOCX,
    PPTX,
    mime_essence,
    mime_type_for,
    parser_for,
    register_parser,
    supported_mime_types,
    warm_up_parsers,
)

__all__ = [
    "DOCX",
    "PPTX",
    "Parser",
    "mime_essence",
    "mime_type_for",
    "parse_document",
    "parser_for",
    "register_parser",
    "supported_mime_types",
    "warm_up_parsers",
]
