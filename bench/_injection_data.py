"""The data the injection detector is fitted on (``bench.fit_injection``) and measured on
(``bench.injection``), read in place from ``$CLEARANCE_EVAL_DATA`` (never copied), and the
split between the two, which both modules take from here:

============================  =====================================  ==========================
source                        training (fit and threshold)           evaluation (held out)
============================  =====================================  ==========================
BIPIA text attacks            ``text_attack_train.json`` (15 cats)   ``text_attack_test.json``
                                                                     (15 other categories)
BIPIA code attacks            ``code_attack_train.json`` (10 cats)   ``code_attack_test.json``
BIPIA email contexts          ``email/train.jsonl`` (50)             ``email/test.jsonl`` (50)
BIPIA table contexts          ``table/test.jsonl``, first 50         its last 50
BIPIA code (Stack Overflow)   ``code/test.jsonl``, first 25          its last 25
SciFact abstracts (benign)    ``corpus.jsonl``, first 2,000          the other 3,183
SQuAD 2.0 paragraphs (benign) first 8 articles (294 paragraphs)      last 8 articles (352)
giskard prompt injections     never                                  all 35
============================  =====================================  ==========================

Orders are file order. BIPIA ships table and code contexts for its test split only (SOURCE.md),
so their halves serve as training and evaluation hosts. Attacks are inserted the way BIPIA's
builder does (``insert``): on their own line at the start, at the end, or before a sentence
picked by a seeded random draw; text attacks go into e-mails and tables, code attacks into
Stack Overflow answers. A SciFact abstract is scored as ``title\\ntext``, as a chunk is.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench._data import dataset_dir

Split = Literal["train", "test"]
POSITIONS = ("start", "middle", "end")
INSERT_SEED = 2023
"""One seed for every insertion, as BIPIA's builder uses one ``random_state``."""
SCIFACT_TRAIN = 2000
SQUAD_TRAIN_ARTICLES = 8
TABLE_TRAIN, CODE_TRAIN = 50, 25
_SENTENCE_START = re.compile(r"(?<=[.!?])\s+(?=\S)")


@dataclass(frozen=True)
class Attack:
    category: str
    text: str
    kind: Literal["text", "code"]


@dataclass(frozen=True)
class Host:
    """A clean BIPIA context an attack is inserted into."""

    task: Literal["email", "table", "code"]
    number: int
    text: str


@dataclass(frozen=True)
class Poisoned:
    task: str
    position: str
    attack: Attack
    text: str


def insert(context: str, attack: str, position: str, *, seed: int = INSERT_SEED) -> str:
    """BIPIA's ``insert_start``/``insert_end``/``insert_middle``: the attack on a line of its
    own; the middle one before a sentence start drawn with ``random.Random(seed)``."""
    if position == "start":
        return "\n".join([attack, context])
    if position == "end":
        return "\n".join([context, attack])
    starts = [0] + [m.end() for m in _SENTENCE_START.finditer(context)]
    start = random.Random(seed).choice(starts)
    return "\n".join([context[:start], attack, context[start:]])


def attacks(split: Split) -> list[Attack]:
    folder = dataset_dir("bipia")
    found: list[Attack] = []
    for kind in ("text", "code"):
        data = json.loads((folder / f"{kind}_attack_{split}.json").read_text(encoding="utf-8"))
        found += [Attack(category, text, kind)
                  for category, texts in data.items() for text in texts]
    return found


def hosts(split: Split) -> list[Host]:
    folder = dataset_dir("bipia")
    email = _contexts(folder / "email" / f"{split}.jsonl")
    table = _contexts(folder / "table" / "test.jsonl")
    code = _contexts(folder / "code" / "test.jsonl")
    if split == "train":
        table, code = table[:TABLE_TRAIN], code[:CODE_TRAIN]
    else:
        table, code = table[TABLE_TRAIN:], code[CODE_TRAIN:]
    return ([Host("email", i, t) for i, t in enumerate(email)]
            + [Host("table", i, t) for i, t in enumerate(table)]
            + [Host("code", i, t) for i, t in enumerate(code)])


def _contexts(path: Path) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [r["context"] if isinstance(r["context"], str) else "\n".join(r["context"])
            for r in rows]


def poisoned(split: Split, *, host_limit: int | None = None,
             attack_filter: set[str] | None = None) -> Iterator[Poisoned]:
    """Every (host, attack of its kind, position) of ``split``, as BIPIA builds them:
    ``host_limit`` hosts per task at most; only ``attack_filter`` categories if given."""
    chosen = [a for a in attacks(split) if attack_filter is None or a.category in attack_filter]
    per_task: dict[str, int] = {}
    for host in hosts(split):
        per_task[host.task] = per_task.get(host.task, 0) + 1
        if host_limit is not None and per_task[host.task] > host_limit:
            continue
        kind = "code" if host.task == "code" else "text"
        for attack in chosen:
            if attack.kind != kind:
                continue
            for position in POSITIONS:
                yield Poisoned(host.task, position, attack,
                               insert(host.text, attack.text, position))


def scifact(split: Split) -> list[str]:
    path = dataset_dir("scifact") / "corpus.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    texts = [f"{r['title']}\n{r['text']}" for r in rows]
    return texts[:SCIFACT_TRAIN] if split == "train" else texts[SCIFACT_TRAIN:]


def squad(split: Split) -> list[str]:
    path = dataset_dir("squad2-dev-half") / "dev-v2.0.json"
    articles = json.loads(path.read_text(encoding="utf-8"))["data"]
    chosen = (articles[:SQUAD_TRAIN_ARTICLES] if split == "train"
              else articles[SQUAD_TRAIN_ARTICLES:])
    return [p["context"] for a in chosen for p in a["paragraphs"]]


def giskard() -> list[tuple[str, str]]:
    """(group, prompt) of every giskard prompt: evaluation only."""
    path = dataset_dir("giskard-prompt-injections") / "prompt_injections.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["group"], row["prompt"]) for row in csv.DictReader(handle)]
