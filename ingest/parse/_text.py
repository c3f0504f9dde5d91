"""Bytes to text for the text formats: BOMs honoured, UTF-8 otherwise, binaries refused.

Text is decoded strictly: a wrong guess would index garbage that nobody can search for, so
an undecodable byte is an error that names its offset (never the surrounding text).
"""

from __future__ import annotations

import codecs
import re

from core.errors import DocumentEncodingError, DocumentUnparseable

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([\w.:-]+)\"?", re.IGNORECASE)
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_CONTROL_RATIO = 0.05
"""Real text has almost no control characters; past 5 % it is a binary with a text name."""


def decode_text(content: bytes, *, mime_type: str) -> str:
    """The text of ``content`` with newlines normalised to ``\\n``.

    A byte-order mark wins, then a ``charset`` parameter of ``mime_type``, then UTF-8.
    """
    codec, offset = _codec_for(content, mime_type)
    try:
        text = content[offset:].decode(codec)
    except LookupError:
        raise DocumentEncodingError(f"unknown charset {codec!r} in the MIME type") from None
    except UnicodeDecodeError as exc:
        if _looks_binary(content):
            raise DocumentUnparseable(_BINARY_MESSAGE) from None
        raise DocumentEncodingError(
            f"not valid {_label(codec)} at byte {offset + exc.start}"
        ) from None
    if "\x00" in text or _control_ratio(text) > _MAX_CONTROL_RATIO:
        raise DocumentUnparseable(_BINARY_MESSAGE)
    return text.replace("\r\n", "\n").replace("\r", "\n")


_BINARY_MESSAGE = (
    "looks like a binary file, not text (NUL or control bytes; "
    "UTF-16 text needs a byte-order mark)"
)


def _codec_for(content: bytes, mime_type: str) -> tuple[str, int]:
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return codec, len(bom)
    declared = _CHARSET.search(mime_type)
    return (declared.group(1).lower() if declared else "utf-8"), 0


def _looks_binary(content: bytes) -> bool:
    sample = content[:65536]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > _MAX_CONTROL_RATIO * len(sample)


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    return len(_CONTROL_CHARS.findall(text)) / len(text)


def _label(codec: str) -> str:
    return codec.upper().replace("-LE", "").replace("-BE", "")
