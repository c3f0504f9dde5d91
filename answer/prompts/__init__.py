"""Versioned prompts: each is a file here, named ``<name>_v<n>.txt`` and never edited once
used (a change is a new version), so an audit row's ``prompt_version`` names the exact
words a model was given.

Retrieved text enters a prompt only as JSON data (``context_payload``), each chunk with its
source id: a document cannot close a quote or open an instruction, and the system prompt
tells the model that instructions inside documents are to be ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ..injection import suspicious_chunks
from ..types import AnswerRequest

__all__ = ["ANSWER_PROMPT_VERSION", "Prompt", "answer_prompt"]

ANSWER_PROMPT_VERSION = "answer_v1"


@dataclass(frozen=True)
class Prompt:
    version: str
    system: str

    def user_message(self, request: AnswerRequest) -> str:
        """The question and its permitted context, as data."""
        return json.dumps(context_payload(request), ensure_ascii=False, indent=1)


def context_payload(request: AnswerRequest) -> dict[str, object]:
    """Question and documents as JSON data; a document whose text reads like instructions
    to a model carries ``"suspicious": true`` (see ``answer.injection``)."""
    flagged = suspicious_chunks(request.context)
    documents: list[dict[str, object]] = []
    for c in request.context:
        document: dict[str, object] = {"n": c.n, "source": c.chunk_id, "title": c.title,
                                       "text": c.text}
        if c.chunk_id in flagged:
            document["suspicious"] = True
        documents.append(document)
    return {"question": request.question, "documents": documents}


@cache
def answer_prompt(version: str = ANSWER_PROMPT_VERSION) -> Prompt:
    """The prompt of ``version``, read from this package's files."""
    text = resources.files(__package__).joinpath(f"{version}.txt").read_text(encoding="utf-8")
    return Prompt(version=version, system=text.strip())
