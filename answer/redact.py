"""PII redaction for prompts that leave the process: e-mail addresses, phone numbers,
payment card numbers (Luhn-checked), IBANs (mod-97-checked) and US social security numbers
are replaced by placeholders (``[EMAIL_1]``) before a model provider sees the question and
the context, and put back into what the model returns, so answers and quotes read (and
verify) against the original text.

The same value gets the same placeholder everywhere in one request; the mapping lives only
for that request, in memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from .types import AnswerRequest, AnswerResult

__all__ = ["Redaction", "RestoringStream", "redact_request"]

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ().-]{7,}\d|\(?\d{2,5}\)?[ .-]\d{2,5}[ .-]\d{2,6}"
                    r"(?:[ .-]\d{2,6})?)(?![\w])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|CARD|IBAN|SSN)_\d+\]")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _phone_ok(text: str) -> bool:
    digits = _digits(text)
    return 9 <= len(digits) <= 15 and not _ISO_DATE.fullmatch(text.strip())


_KINDS: tuple[tuple[str, re.Pattern[str], Callable[[str], bool]], ...] = (
    ("EMAIL", _EMAIL, lambda s: True),
    ("IBAN", _IBAN, _iban_ok),
    ("CARD", _CARD, lambda s: _luhn(_digits(s))),
    ("SSN", _SSN, lambda s: True),
    ("PHONE", _PHONE, _phone_ok),
)


@dataclass
class Redaction:
    """Placeholder -> original for one request."""

    originals: dict[str, str] = field(default_factory=dict)
    _by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def redact(self, text: str) -> str:
        for kind, pattern, valid in _KINDS:
            text = pattern.sub(partial(self._replace, kind, valid), text)
        return text

    def _replace(self, kind: str, valid: Callable[[str], bool], match: re.Match[str]) -> str:
        return self._placeholder(kind, match.group(0), valid)

    def _placeholder(self, kind: str, value: str, valid: Callable[[str], bool]) -> str:
        if _PLACEHOLDER.fullmatch(value) or not valid(value):
            return value
        key = (kind, value)
        if key not in self._by_value:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"[{kind}_{self._counts[kind]}]"
            self._by_value[key] = placeholder
            self.originals[placeholder] = value
        return self._by_value[key]

    def restore(self, text: str) -> str:
        if not self.originals:
            return text
        return _PLACEHOLDER.sub(lambda m: self.originals.get(m.group(0), m.group(0)), text)

    def restore_result(self, result: AnswerResult) -> AnswerResult:
        if not self.originals:
            return result
        return replace(result, answer=self.restore(result.answer),
                       citations=tuple(replace(c, quote=self.restore(c.quote))
                                       for c in result.citations))


def redact_request(request: AnswerRequest) -> tuple[AnswerRequest, Redaction]:
    """``request`` with PII replaced in its question and its chunks' titles, headings and
    texts."""
    redaction = Redaction()
    question = redaction.redact(request.question)
    context = tuple(replace(c, title=redaction.redact(c.title), text=redaction.redact(c.text),
                            heading_path=tuple(redaction.redact(h) for h in c.heading_path))
                    for c in request.context)
    return replace(request, question=question, context=context), redaction


class RestoringStream:
    """Puts originals back into streamed text; holds back a possible placeholder that a
    delta boundary cut in two (from its ``[`` until it closes or cannot be one)."""

    _MAX_PLACEHOLDER = 16

    def __init__(self, redaction: Redaction) -> None:
        self.redaction = redaction
        self._held = ""

    def feed(self, text: str) -> str:
        text = self._held + text
        self._held = ""
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and len(text) - cut < self._MAX_PLACEHOLDER:
            text, self._held = text[:cut], text[cut:]
        return self.redaction.restore(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self.redaction.restore(text)
