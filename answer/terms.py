"""Which names, codes, numbers and quoted phrases a question depends on, and which of them
a context lacks: a passage that never names project QZ-9913 cannot be about it."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from .text import (
    NUMBER_WORDS,
    QUESTION_FRAME_WORDS,
    STOPWORDS,
    fold,
    normalize_space,
    stem,
    tokens,
)
from .types import ContextChunk

_QUOTED = re.compile(
    r"\"([^\"]+)\""
    r"|\u201c([^\u201d]+)\u201d"
    r"|\u2018([^\u2019]+)\u2019"
    r"|(?:(?<=\s)|^)'([^']+)'(?=[\s?.,!;:]|$)"  # 'single quotes', not the 's of 1990's
)
_CODE = re.compile(r"\b[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)*\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\S+")
_NAME_PREFIX_MIN = 4
_NAME_PREFIX_SHARE = 0.6
"""A name matches a context word sharing its first letters ("Italian" and "Italy",
"German" and "Germany"): at least this many, and this share of the shorter word."""
_CAPITALISED_RUN = re.compile(
    r"[A-Z][\w-]*(?:\s+(?:(?:of|for|de|von|van)\s+)?[A-Z][\w-]*)+"
)


def distinctive_terms(question: str) -> tuple[str, ...]:
    """Names, codes, numbers and quoted phrases of ``question``, as written, in order.

    These are the words a passage must contain to be about the same thing: a budget of
    project QX-7731 is no answer to a question about project QZ-9913.
    """
    found: list[str] = []
    for match in _QUOTED.finditer(question):
        phrase = next(g for g in match.groups() if g is not None).strip()
        if phrase:
            found.append(f'"{phrase}"')
    for match in _CODE.finditer(question):
        token = match.group(0)
        if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
            found.append(token)
    for match in _NUMBER.finditer(question):
        if not _inside_code(question, match.start(), match.end()):
            found.append(match.group(0))
    words = _WORD.findall(question)
    for position, word in enumerate(words):
        name = word.strip("\"'()[]{},.;:?!\u201c\u201d\u2018\u2019")
        name = name.removesuffix("'s")
        starts_sentence = position == 0 or words[position - 1][-1] in ".!?:"
        if starts_sentence or not name[:1].isupper() or not name.isalpha():
            continue
        if name.lower() in STOPWORDS or name.lower() in QUESTION_FRAME_WORDS:
            continue
        found.append(name)
    return tuple(dict.fromkeys(found))


def missing_terms(question: str, context: Sequence[ContextChunk]) -> tuple[str, ...]:
    """The distinctive terms of ``question`` that occur in no chunk of ``context``."""
    if not context:
        return distinctive_terms(question)
    texts = [f"{chunk.label}\n{chunk.text}" for chunk in context]
    words = [t for text in texts for t in tokens(text)]
    flat = f" {' '.join(words)} "
    flat_text = fold(normalize_space(" ".join(texts)))
    numbers = {_plain_number(m) for text in texts for m in _NUMBER.findall(text)}
    numbers |= {NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS}
    stems = {stem(w) for w in words}
    acronyms = {
        acronym
        for text in texts
        for run in _CAPITALISED_RUN.findall(text)
        for acronym in _initials(run)
    }
    missing: list[str] = []
    for term in distinctive_terms(question):
        if term.startswith('"'):
            present = f" {' '.join(tokens(term))} " in flat
        elif any(c.isalpha() for c in term) and any(c.isdigit() for c in term):
            present = _code_pattern(term).search(flat_text) is not None
        elif term[0].isdigit():
            present = _plain_number(term) in numbers
        else:
            present = _name_present(term, stems) or (term.isupper() and term in acronyms)
        if not present:
            missing.append(term)
    return tuple(missing)


def _inside_code(text: str, start: int, end: int) -> bool:
    for match in _CODE.finditer(text):
        if match.start() <= start and end <= match.end():
            token = match.group(0)
            return any(c.isalpha() for c in token)
    return False


def _plain_number(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)


def _code_pattern(code: str) -> re.Pattern[str]:
    """``INV-2041`` also matches ``inv 2041``, ``INV2041`` and ``inv_2041``, nothing longer;
    ``401k`` matches ``401(k)``."""
    parts = re.findall(r"[a-z]+|\d+", code.lower())
    body = r"[-_/. (]?".join(re.escape(p) for p in parts)
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")


def _name_present(name: str, stems: set[str]) -> bool:
    wanted = stem(fold(name))
    if wanted in stems:
        return True
    if len(wanted) < _NAME_PREFIX_MIN:
        return False
    for candidate in stems:
        shared = len(os.path.commonprefix([wanted, candidate]))
        if shared >= _NAME_PREFIX_MIN and shared >= _NAME_PREFIX_SHARE * min(
            len(wanted), len(candidate)
        ):
            return True
    return False


def _initials(run: str) -> set[str]:
    """Acronyms a run of capitalised words may go by: ``The European Union`` gives ``EU``
    (and ``TEU``, ``TE``); connecting words (``of``) are skipped."""
    letters = [w[0] for w in run.split() if w[0].isupper()]
    return {
        "".join(letters[i:j])
        for i in range(len(letters))
        for j in range(i + 2, min(len(letters), i + 6) + 1)
    }
