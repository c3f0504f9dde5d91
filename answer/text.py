"""Plain-text helpers for answering without a model: sentences, terms and a light stemmer.

Everything here is deterministic and dependency-free, so the extractive answerer and the
abstention rules behave the same on every machine and need no download.

Sentences are returned as character spans into the original text, never as rewritten
strings: a citation's quote must be an exact substring of its chunk.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass

# A token is a number (1,000 / 3.5 / 1990s), or a word (letters, digits, inner ' or -
# joined parts are split, so "INV-2041" gives "inv" and "2041").
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*(?:[a-z]+)?|[^\W\d_]+(?:'[^\W\d_]+)?|\w+", re.UNICODE)

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co",
        "corp", "no", "nos", "fig", "figs", "eq", "approx", "dept", "est", "gen", "gov",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "e.g", "i.e", "cf", "al", "ca", "c", "vol", "pp", "u.s", "u.k", "a.m", "p.m",
    }
)

# Candidate sentence ends: terminal punctuation (with closing quotes/brackets), then space.
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)")
_LINE_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*\u2022]|\d+[.)])\s)")

# Function words and question framing words: they say how something is asked, not what.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself of off on once only or other ought
    our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom whose why will with would you
    your yours yourself yourselves also may might must shall us one ones upon via within
    s t d ll m re ve y many much whose whom whichever whatever else get got
    """.split()
)

# Words that frame a question but rarely occur in the passage that answers it.
QUESTION_FRAME_WORDS = frozenset(
    """
    name named names called call term termed type types kind kinds sort example examples
    year years date dates percent percentage number amount happen happened happens
    happening describe described mean means meaning refer refers referred word words
    two three several common commonly typical typically usual usually often generally
    main mainly primary primarily along another located location associated
    """.split()
)

NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}

NEGATIONS = frozenset({"not", "no", "never", "none", "nor", "without", "neither", "cannot"})

# Words that flip or narrow what is asked ("the first", "the least"): a sentence that lacks
# them answers a different question, however many other words it shares.
QUALIFIERS = frozenset(
    """
    least most first last less more fewer before after earliest latest earlier later early
    late increase decrease higher lower largest smallest lowest highest best worst only
    """.split()
)


@dataclass(frozen=True)
class Span:
    """A sentence as a half-open character range of its source text."""

    start: int
    end: int


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of ``text``, trimmed of surrounding whitespace, in order.

    Splits at ``.``/``!``/``?`` followed by whitespace (not after a known abbreviation, an
    initial or a number), at blank lines and before list items. Each span's text is an exact
    substring of ``text``, which is what makes verbatim quotes possible.
    """
    cuts: set[int] = {0, len(text)}
    for match in _SENTENCE_END.finditer(text):
        if _is_real_end(text, match.start(), match.end()):
            cuts.add(match.end())
    for match in _LINE_BREAK.finditer(text):
        cuts.add(match.start())
        cuts.add(match.end())
    spans: list[Span] = []
    ordered = sorted(cuts)
    for start, end in itertools.pairwise(ordered):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end and any(ch.isalnum() for ch in text[start:end]):
            spans.append(Span(start, end))
    return spans


def _is_real_end(text: str, punct_start: int, punct_end: int) -> bool:
    if text[punct_start] != ".":
        return True
    word_match = re.search(r"([\w.]+)$", text[:punct_start])
    word = word_match.group(1).lower() if word_match else ""
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
        return False  # U.S. / e.g. / i.e.
    line_start = text.rfind("\n", 0, punct_start) + 1
    if word.isdigit() and not text[line_start : punct_start - len(word)].strip():
        return False  # "1. Submit the form": a numbered list item
    following = text[punct_end:].lstrip()
    if not following:
        return True
    # "approx. 3 km" or "see p. 12": a lower-case or digit start is a weak end; keep going.
    return not following[0].islower()


def fold(text: str) -> str:
    """``text`` lower-cased and without accents, so "Küçükdeveci" meets "Kucukdeveci"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Folded word and number tokens of ``text`` (numbers without thousands commas)."""
    out: list[str] = []
    for raw in _TOKEN.findall(fold(text)):
        if raw[0].isdigit():
            raw = raw.replace(",", "")
        elif raw.endswith("'s"):
            raw = raw[:-2]
        elif raw.endswith("n't"):
            out.append(raw[:-3])
            raw = "not"
        out.append(raw)
    return out


_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("isation", "ize"),
    ("iveness", "ive"),
    ("fulness", "ful"),
    ("ousness", "ous"),
    ("nesses", ""),
    ("ments", ""),
    ("ement", ""),
    ("ment", ""),
    ("ness", ""),
    ("ingly", ""),
    ("edly", ""),
    ("ings", ""),
    ("ions", ""),
    ("ion", ""),
    ("ing", ""),
    ("ied", "y"),
    ("ies", "y"),
    ("ed", ""),
    ("ly", ""),
    ("sses", "ss"),
    ("es", ""),
    ("s", ""),
)


# Common irregular verb forms, mapped to the form their regular siblings stem to.
_IRREGULAR = {
    "made": "make", "became": "become", "began": "begin", "begun": "begin",
    "took": "take", "taken": "take", "gave": "give", "given": "give", "led": "lead",
    "wrote": "write", "written": "write", "held": "hold", "built": "build", "sent": "send",
    "won": "win", "lost": "lose", "born": "birth", "bore": "bear", "borne": "bear",
    "chose": "choose", "chosen": "choose", "drew": "draw", "drawn": "draw", "fell": "fall",
    "fallen": "fall", "flew": "fly", "flown": "fly", "grew": "grow", "grown": "grow",
    "knew": "know", "known": "know", "left": "leave", "paid": "pay", "ran": "run",
    "rose": "rise", "risen": "rise", "said": "say", "saw": "see", "seen": "see",
    "sold": "sell", "sought": "seek", "spoke": "speak", "spoken": "speak", "spent": "spend",
    "stood": "stand", "taught": "teach", "thought": "think", "told": "tell", "went": "go",
    "gone": "go", "brought": "bring", "bought": "buy", "caught": "catch", "fought": "fight",
    "felt": "feel", "kept": "keep", "meant": "mean", "met": "meet", "struck": "strike",
    "understood": "understand", "wore": "wear", "worn": "wear", "men": "man",
    "women": "woman", "children": "child", "people": "person", "mice": "mouse",
}


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light suffix stripper so that "founded", "founding" and "founds" meet.

    Deliberately crude (a short irregular-verb table, no dictionary); it is applied to
    question and passage alike, so what matters is that inflections collide, not that stems
    are words. Numbers and words of three letters or fewer are left alone.
    """
    word = _IRREGULAR.get(word, word)
    if not word.isalpha():
        return word
    if len(word) <= 3:
        return word[:-1] if len(word) == 3 and word.endswith("e") else word
    for suffix, replacement in _SUFFIXES:
        minimum = 3 if suffix.startswith("ion") else 2
        if word.endswith(suffix) and len(word) - len(suffix) >= minimum:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            word = word[: -len(suffix)] + replacement
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # "stopped" -> "stopp" -> "stop"
    return word


def content_terms(text: str) -> list[str]:
    """Stemmed tokens of ``text`` that carry meaning (no stopwords), in order."""
    return [stem(t) for t in tokens(text) if t not in STOPWORDS]


def normalize_space(text: str) -> str:
    return " ".join(text.split())
