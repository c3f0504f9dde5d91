"""Abstention, calibrated on data and measured through Clearance's own question path.

    python -m bench.abstention [--quick] [--questions N] [--embedder minilm|hashing]

SQuAD 2.0 (``squad2-dev-half``, read in place from ``$CLEARANCE_EVAL_DATA``): its 16
articles are split **in file order** into a tuning half (the first 8: Normans ...
Harvard_University) and a held-out half (the last 8: Yuan_dynasty ... Force). Each half is
its own corpus: every paragraph goes in as one plain-text document (title = the article's
title, ``acl allow ["everyone"]``) through ``workers.pipeline.ingest_documents`` with the
real MiniLM embedder (``build_services(Settings(data_dir=tmp, embedder="minilm"))``), and
every question of the half is asked through ``answer.service.Answerer`` (hybrid retrieval
as served, top 5 chunks, the extractive adapter with MiniLM's ``embed_documents``, as
``api/state.py`` builds it), as a user entitled to everything.

The threshold is calibrated on the tuning half only: the highest one under which at least
``TARGET_ANSWER_RATE`` of its answerable questions are answered. At that threshold the
held-out half reports the answer rate on answerable questions (goal >= 85%) and the
abstention rate on unanswerable ones (goal >= 50%). The threshold the adapter serves by
default (``answer.DEFAULT_MIN_EVIDENCE_WITH_EMBED``) is reported beside it.

RGB (``rgb/en_fact.json``, negative rejection at noise rate 1): only the ``negative``
passages, which are on the question's topic but lack its answer, are indexed. Each
question's passages are readable by one group only, and the question is asked by a member
of that group, so each question sees exactly its own passages (RGB's protocol) through the
ACL filter; a second run asks every question against all the negatives pooled. Goal:
abstain on >= 90%. About half of those "negatives" state the answer in other words ("Barty
wins the 2021 Wimbledon" for "Ashleigh Barty"), where refusing is wrong, so each RGB run
is also reported in two parts (``bench._stated`` judges, on the question's own passages):
the questions none of whose passages state the answer (abstaining is right) and those where
one does (answering, citing it, is).

``--quick`` asks a fixed sample (by a hash of the question id) of 150 questions per half
and 40 RGB questions. To keep the full run (6,278 questions) to minutes on two CPU cores,
MiniLM is called in large batches up front rather than once per question: the questions'
vectors are computed in one call and handed to ``Retriever.search`` by the embedder's
``embed_query`` (``PrimedEmbedder``), and the adapter's ``embed`` is memoised by text and
primed with every sentence of the corpus (``MemoEmbed``). Same model, same texts, same
vectors: only the batching differs.

Prints a table and writes ``bench/results/abstention.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._data import dataset_dir, write_result
from bench._stated import states_answer

if TYPE_CHECKING:
    from answer import AnswerResult, ContextChunk, ExtractiveAdapter
    from index.embed import Embedder
    from workers.services import Services

SQUAD_FILE = ("squad2-dev-half", "dev-v2.0.json")
RGB_FILE = ("rgb", "en_fact.json")
TENANT = "default"
TOP_K = 5
"""Chunks handed to the adapter: ``Answerer.answer``'s default, as the API serves it."""
TARGET_ANSWER_RATE = 0.87
"""Share of the tuning half's answerable questions the calibrated threshold must answer:
the goal (0.85) plus a margin for unseen articles. Left out one at a time, the tuning
half's articles answer 66-96% of their questions at a threshold set on the other seven;
pooled, a target of 0.85 gives ~84% and 0.87 ~86% (~85.7% with the seven features of
``answer.answerability``)."""
GOAL = {"answered": 0.85, "abstained": 0.50, "rgb_abstained": 0.90}
QUICK_QUESTIONS, QUICK_RGB = 150, 40
INGEST_BATCH = 64
USER = "user:bench@example.com"


# -- the data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    qid: str
    text: str
    answerable: bool
    answers: tuple[str, ...]
    """Gold answers (SQuAD) or RGB's accepted answers; empty for unanswerable ones."""
    doc: str
    """External id of the document that holds the question's paragraph (SQuAD) or the
    group that may read its passages (RGB)."""
    stated_in: frozenset[str] = frozenset()
    """RGB: external ids of its own negative passages that state its answer after all
    (``bench._stated``); such a question is reported apart, since refusing it is wrong."""


@dataclass(frozen=True)
class Corpus:
    name: str
    documents: tuple[tuple[str, str, str, str], ...]
    """(external id, title, text, principal allowed to read it)."""
    questions: tuple[Question, ...]


def load_squad() -> tuple[Corpus, Corpus]:
    """The tuning half (first half of the articles in file order) and the held-out half."""
    path = dataset_dir(SQUAD_FILE[0]) / SQUAD_FILE[1]
    articles = json.loads(path.read_text(encoding="utf-8"))["data"]
    middle = (len(articles) + 1) // 2
    return (_squad_corpus("squad-tuning", articles[:middle]),
            _squad_corpus("squad-held-out", articles[middle:]))


def _squad_corpus(name: str, articles: Sequence[dict[str, Any]]) -> Corpus:
    documents: list[tuple[str, str, str, str]] = []
    questions: list[Question] = []
    for article in articles:
        title = article["title"].replace("_", " ")
        for number, paragraph in enumerate(article["paragraphs"]):
            external_id = f"{article['title']}-{number:03d}"
            documents.append((external_id, title, paragraph["context"], "everyone"))
            for qa in paragraph["qas"]:
                answerable = not qa.get("is_impossible", False)
                answers = tuple(a["text"] for a in qa["answers"]) if answerable else ()
                questions.append(Question(qa["id"], qa["question"].strip(), answerable,
                                          answers, external_id))
    return Corpus(name, tuple(documents), tuple(questions))


def load_rgb() -> Corpus:
    """Only the negative passages of ``en_fact.json``; question i's readable by group i."""
    path = dataset_dir(RGB_FILE[0]) / RGB_FILE[1]
    documents: list[tuple[str, str, str, str]] = []
    questions: list[Question] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        group = f"group:rgb-{row['id']}"
        answers = tuple(_flatten(row["answer"]))
        stated: set[str] = set()
        for number, passage in enumerate(row["negative"]):
            external_id = f"rgb-{row['id']}-neg-{number}"
            documents.append((external_id, f"Result {number + 1}", passage, group))
            if states_answer(passage, answers):
                stated.add(external_id)
        questions.append(Question(str(row["id"]), row["query"].strip(), False, answers, group,
                                  frozenset(stated)))
    return Corpus("rgb-negatives", tuple(documents), tuple(questions))


def _flatten(answer: Any) -> Iterator[str]:
    """RGB's answer: a string, or a list of them (nested for alternative spellings)."""
    if isinstance(answer, list):
        for item in answer:
            yield from _flatten(item)
    else:
        yield str(answer)


def sample(questions: Sequence[Question], limit: int | None) -> list[Question]:
    """All of them, or a fixed sample of ``limit`` chosen by a hash of the question id
    (stable across runs and machines), kept in file order."""
    if limit is None or limit >= len(questions):
        return list(questions)
    ranked = sorted(questions, key=lambda q: hashlib.sha256(q.qid.encode()).hexdigest())
    keep = {q.qid for q in ranked[:limit]}
    return [q for q in questions if q.qid in keep]


# -- the index and the question path --------------------------------------------------------


class MemoEmbed:
    """``embed_documents`` memoised by text for one run: the adapter embeds the sentences
    of its context on every question, and SQuAD asks ~9 questions per paragraph."""

    def __init__(self, embed: Callable[[Sequence[str]], list[list[float]]]) -> None:
        self.embed = embed
        self.vectors: dict[str, list[float]] = {}
        self.computed = 0
        self.seconds = 0.0

    def prewarm(self, corpus: Corpus, questions: Sequence[Question]) -> None:
        """Embed the questions and every sentence of the corpus in one call (far faster
        than one question and its ~30 context sentences at a time); a sentence the adapter
        cuts differently from a chunk is embedded when asked."""
        from answer import split_sentences

        self([q.text for q in questions] + [text[s.start:s.end] for _, _, text, _ in
                                            corpus.documents for s in split_sentences(text)])

    def __call__(self, texts: list[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            started = time.perf_counter()
            self.vectors.update(zip(missing, self.embed(missing), strict=True))
            self.seconds += time.perf_counter() - started
            self.computed += len(missing)
        return [self.vectors[t] for t in texts]


class PrimedEmbedder:
    """The run's ``Embedder``, with its questions' vectors computed up front in one batch
    (``queries``), so ``Retriever.search`` gets each from ``embed_query`` without a model
    call per question; anything else goes to the real embedder."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.kind, self.dimensions = inner.kind, inner.dimensions
        self.max_tokens, self.device = inner.max_tokens, inner.device
        self.queries: dict[str, list[float]] = {}

    def warm_up(self) -> None:
        self.inner.warm_up()
        self.device = self.inner.device

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def prime(self, vectors: dict[str, list[float]]) -> None:
        """Serve these as the queries' vectors, if this embedder embeds a query as it does a
        document (MiniLM does; checked on one of them, else nothing is primed)."""
        if not vectors:
            return
        text, vector = next(iter(vectors.items()))
        direct = self.inner.embed_query(text)
        dot = sum(a * b for a, b in zip(direct, vector, strict=True))
        norms = math.sqrt(sum(a * a for a in direct) * sum(b * b for b in vector))
        if norms and dot / norms > 0.9999:
            self.queries.update(vectors)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        vector = self.queries.get(text)
        return vector if vector is not None else self.inner.embed_query(text)


class Recorder:
    """A ``ModelAdapter`` that hands each request to the extractive adapter and keeps it,
    so the bench can read the score the decision was taken on."""

    kind = "extractive"
    can_stream = False
    supports_schema = False

    def __init__(self, inner: ExtractiveAdapter) -> None:
        self.inner = inner
        self.last_request: Any = None
        self.adapter_s = 0.0

    def generate(self, request: Any) -> AnswerResult:
        self.last_request = request
        started = time.perf_counter()
        try:
            return self.inner.generate(request)
        finally:
            self.adapter_s += time.perf_counter() - started


@dataclass
class Asked:
    question: Question
    context: tuple[ContextChunk, ...]
    result: AnswerResult
    """What the app answered, at the served default threshold."""
    score: float
    """The adapter's answerability score, compared with ``min_evidence``."""
    rule: str | None
    """A reason to abstain whatever the threshold (no context, a missing name...)."""
    gold_doc_id: str
    """Clearance's id of the document holding the question's paragraph (SQuAD)."""
    stated_doc_ids: frozenset[str] = frozenset()
    """Clearance's ids of the passages that state the answer (RGB, ``Question.stated_in``)."""

    def answered_at(self, threshold: float) -> bool:
        return self.rule is None and self.score >= threshold

    @property
    def cites_gold(self) -> bool:
        return any(c.doc_id == self.gold_doc_id for c in self.result.citations)

    @property
    def cites_a_statement(self) -> bool:
        """Answered (as served) citing a passage that states the answer (RGB)."""
        return not self.result.abstained and any(
            c.doc_id in self.stated_doc_ids for c in self.result.citations)


@dataclass
class Run:
    corpus: str
    asked: list[Asked]
    documents: int
    chunks: int
    index_s: float
    ask_s: float
    embed_s: float
    adapter_ms_per_question: float
    embed: MemoEmbed | None = None
    """The memoised sentence embedder the adapter used (for refitting)."""


def build_index(corpus: Corpus, data_dir: Path, *, embedder: str,
                say: Callable[[str], None]) -> tuple[Services, str, int, float]:
    """Every document through ``ingest_documents``, as a push source would send it."""
    from core import Acl, RawDocument, Settings
    from index.embed import create_embedder
    from workers.pipeline import ingest_documents
    from workers.services import build_services
    from workers.sources import get_or_create_source

    started = time.perf_counter()
    settings = Settings(data_dir=data_dir, embedder=embedder)
    services = build_services(settings, embedder=PrimedEmbedder(create_embedder(settings)))
    with services.sessions() as session, session.begin():
        source_id = get_or_create_source(session, tenant=TENANT, name=corpus.name,
                                         kind="push").id
    chunks = 0
    for batch in _batches(corpus.documents, INGEST_BATCH):
        raws = [RawDocument(external_id=external_id, title=title, content=text.encode(),
                            mime_type="text/plain", acl=Acl.of([reader]))
                for external_id, title, text, reader in batch]
        for outcome in ingest_documents(services, raws, tenant=TENANT, source_id=source_id):
            if outcome.status != "indexed":
                raise SystemExit(f"{corpus.name}: {outcome.external_id} was not indexed "
                                 f"({outcome.status}: {outcome.error_code})")
            chunks += outcome.chunks
    seconds = time.perf_counter() - started
    say(f"  {corpus.name}: {len(corpus.documents)} documents, {chunks} chunks indexed "
        f"in {seconds:.0f} s")
    return services, source_id, chunks, seconds


Principals = Callable[[Question], frozenset[str]]


def ask_all(corpus: Corpus, questions: Sequence[Question], *, data_dir: Path, embedder: str,
            variants: Sequence[tuple[str, Principals]],
            say: Callable[[str], None]) -> list[Run]:
    """Index ``corpus``, then ask each question through ``Answerer`` as served, once per
    variant: a name and the principals the asking user holds for a question."""
    from answer import ExtractiveAdapter
    from answer.service import Answerer
    from core import Entitlements, document_id
    from core.audit import AuditContext
    from retrieval import FusionConfig, Retriever

    services, source_id, chunks, index_s = build_index(corpus, data_dir, embedder=embedder,
                                                       say=say)
    runs: list[Run] = []
    try:
        memo = MemoEmbed(services.embedder.embed_documents)
        memo.prewarm(corpus, questions)
        assert isinstance(services.embedder, PrimedEmbedder)
        services.embedder.prime({q.text: memo.vectors[q.text] for q in questions})
        say(f"  {corpus.name}: {memo.computed} questions and sentences embedded "
            f"in {memo.seconds:.0f} s")
        adapter = ExtractiveAdapter(embed=memo)
        retriever = Retriever(store=services.store, embedder=services.embedder,
                              sessions=services.sessions,
                              fusion=FusionConfig.from_settings(services.settings))
        audit = AuditContext(tenant=TENANT, caller="bench:abstention", user_id=USER)
        for name, principals in variants:
            recorder = Recorder(adapter)
            answerer = Answerer(retriever=retriever, adapter=recorder)
            asked: list[Asked] = []
            started = time.perf_counter()
            for number, question in enumerate(questions, start=1):
                entitlements = Entitlements(tenant=TENANT, principals=principals(question))
                outcome = answerer.answer(question.text, entitlements=entitlements,
                                          audit=audit, top_k=TOP_K)
                assessment = adapter.assess(recorder.last_request)
                asked.append(Asked(question, outcome.context, outcome.result,
                                   assessment.score, assessment.rule,
                                   document_id(source_id, question.doc),
                                   frozenset(document_id(source_id, external_id)
                                             for external_id in question.stated_in)))
                if number % 500 == 0:
                    say(f"  {name}: {number}/{len(questions)} questions asked "
                        f"({time.perf_counter() - started:.0f} s)")
            ask_s = time.perf_counter() - started
            say(f"  {name}: {len(questions)} questions asked in {ask_s:.0f} s")
            runs.append(Run(name, asked, len(corpus.documents), chunks, round(index_s, 1),
                            round(ask_s, 1), round(memo.seconds, 1),
                            round(1000 * recorder.adapter_s / max(len(questions), 1), 2),
                            memo))
    finally:
        services.close()
    return runs


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# -- calibration and rates ------------------------------------------------------------------


def calibrate(asked: Sequence[Asked], *, target: float = TARGET_ANSWER_RATE) -> float:
    """The highest threshold that still answers ``target`` of the answerable questions."""
    answerable = sorted((a.score for a in asked if a.question.answerable and a.rule is None),
                        reverse=True)
    total = sum(1 for a in asked if a.question.answerable)
    needed = int(-(-target * total // 1))  # ceil
    if needed == 0 or needed > len(answerable):
        return 0.0
    return answerable[needed - 1]


def rates(asked: Sequence[Asked], threshold: float) -> dict[str, Any]:
    answerable = [a for a in asked if a.question.answerable]
    unanswerable = [a for a in asked if not a.question.answerable]
    answered = [a for a in answerable if a.answered_at(threshold)]
    return {
        "threshold": round(threshold, 4),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answered": _share(len(answered), len(answerable)),
        "abstained": _share(sum(not a.answered_at(threshold) for a in unanswerable),
                            len(unanswerable)),
        "answered_citing_gold_paragraph": _share(
            sum(a.cites_gold for a in answered if a.result.citations), len(answerable)),
    }


def served(asked: Sequence[Asked]) -> dict[str, Any]:
    """The rates of what ``Answerer`` actually returned (served default threshold)."""
    answerable = [a for a in asked if a.question.answerable]
    unanswerable = [a for a in asked if not a.question.answerable]
    reasons = Counter(a.result.reason for a in asked if a.result.abstained)
    return {
        "answered": _share(sum(not a.result.abstained for a in answerable), len(answerable)),
        "abstained": _share(sum(a.result.abstained for a in unanswerable), len(unanswerable))
        if unanswerable else None,
        "abstained_all": _share(sum(a.result.abstained for a in asked), len(asked)),
        "answered_citing_gold_paragraph": _share(
            sum(a.cites_gold for a in answerable if not a.result.abstained), len(answerable)),
        "reasons": dict(sorted(reasons.items(), key=lambda kv: str(kv[0]))),
    }


def rgb_split(asked: Sequence[Asked], threshold: float) -> dict[str, Any]:
    """RGB's questions apart: those whose own negatives lack the answer (where abstaining is
    right) and those where one states it (``bench._stated``: answering, citing it, is)."""
    lacking = [a for a in asked if not a.question.stated_in]
    stating = [a for a in asked if a.question.stated_in]
    return {
        "answer_lacking": {
            "questions": len(lacking),
            "abstained_at_calibrated_threshold": _share(
                sum(not a.answered_at(threshold) for a in lacking), len(lacking)),
            "abstained_served": _share(sum(a.result.abstained for a in lacking), len(lacking)),
        },
        "answer_stated": {
            "questions": len(stating),
            "abstained_served": _share(sum(a.result.abstained for a in stating), len(stating)),
            "answered_citing_a_stating_passage": _share(
                sum(a.cites_a_statement for a in stating), len(stating)),
            "question_ids": sorted((a.question.qid for a in stating), key=int),
        },
    }


def auc(asked: Sequence[Asked]) -> float | None:
    """Probability that an answerable question outscores an unanswerable one (rules first:
    a question a rule refuses scores below every other)."""
    def key(a: Asked) -> float:
        return -1.0 if a.rule is not None else a.score
    positives = [key(a) for a in asked if a.question.answerable]
    negatives = sorted(key(a) for a in asked if not a.question.answerable)
    if not positives or not negatives:
        return None
    import bisect

    wins = 0.0
    for p in positives:
        below = bisect.bisect_left(negatives, p)
        ties = bisect.bisect_right(negatives, p) - below
        wins += below + ties / 2
    return round(wins / (len(positives) * len(negatives)), 4)


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


# -- the command ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.abstention", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"a fixed sample: {QUICK_QUESTIONS} questions per SQuAD half, "
                             f"{QUICK_RGB} RGB questions")
    parser.add_argument("--questions", type=int, default=None,
                        help="a fixed sample of N questions per SQuAD half (default: all)")
    parser.add_argument("--embedder", default="minilm",
                        help="minilm (as served), or hashing (a fast smoke test)")
    parser.add_argument("--out", default="abstention",
                        help="result name under bench/results/ (abstention)")
    return parser.parse_args(argv)


def collect(args: argparse.Namespace, *, say: Callable[[str], None] = print,
            ) -> tuple[Run, Run, Run, Run]:
    """Both SQuAD halves and both RGB variants, asked through the question path."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DO_NOT_TRACK"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    limit = args.questions or (QUICK_QUESTIONS if args.quick else None)
    rgb_limit = QUICK_RGB if args.quick else None
    tuning, held_out = load_squad()
    rgb = load_rgb()
    everyone = frozenset({"everyone", USER})
    rgb_groups = frozenset(d[3] for d in rgb.documents)
    with tempfile.TemporaryDirectory(prefix="clearance-abstention-") as tmp:
        runs: list[Run] = []
        for corpus in (tuning, held_out):
            runs += ask_all(corpus, sample(corpus.questions, limit),
                            data_dir=Path(tmp) / corpus.name, embedder=args.embedder,
                            variants=[(corpus.name, lambda q: everyone)], say=say)
        runs += ask_all(rgb, sample(rgb.questions, rgb_limit), data_dir=Path(tmp) / rgb.name,
                        embedder=args.embedder, say=say, variants=[
                            ("rgb-own-negatives", lambda q: everyone | {q.doc}),
                            ("rgb-pooled-negatives", lambda q: everyone | rgb_groups)])
    return runs[0], runs[1], runs[2], runs[3]


def report(runs: tuple[Run, Run, Run, Run], *, args: argparse.Namespace,
           seconds: float) -> dict[str, Any]:
    from answer import DEFAULT_MIN_EVIDENCE_WITH_EMBED

    tuning = runs[0]
    threshold = calibrate(tuning.asked)
    strict = abstaining_threshold(tuning.asked, GOAL["abstained"])
    result: dict[str, Any] = {
        "calibrated_threshold": round(threshold, 4),
        "served_threshold": DEFAULT_MIN_EVIDENCE_WITH_EMBED,
        "target_answer_rate_on_tuning": TARGET_ANSWER_RATE,
        "threshold_abstaining_half_on_tuning": round(strict, 4),
        "goal": GOAL,
        "split": "SQuAD articles in file order: the first half tunes, the second is held out",
        "sample": ("all questions" if not (args.quick or args.questions) else
                   f"fixed hash sample: {args.questions or QUICK_QUESTIONS} per SQuAD half, "
                   f"{QUICK_RGB if args.quick else 'all'} RGB"),
        "embedder": args.embedder,
        "seconds": round(seconds, 1),
    }
    for run in runs:
        entry: dict[str, Any] = {
            "questions": len(run.asked), "documents": run.documents, "chunks": run.chunks,
            "index_s": run.index_s, "ask_s": run.ask_s, "sentence_embed_s": run.embed_s,
            "adapter_ms_per_question": run.adapter_ms_per_question,
            "served": served(run.asked),
        }
        if run.corpus.startswith("squad"):
            entry["at_calibrated_threshold"] = rates(run.asked, threshold)
            entry["at_threshold_abstaining_half_on_tuning"] = rates(run.asked, strict)
            entry["auc"] = auc(run.asked)
        else:
            entry["abstained_at_calibrated_threshold"] = _share(
                sum(not a.answered_at(threshold) for a in run.asked), len(run.asked))
            entry.update(rgb_split(run.asked, threshold))
        result[run.corpus] = entry
    _print_table(result, runs)
    return result


def abstaining_threshold(asked: Sequence[Asked], share: float) -> float:
    """The lowest threshold that abstains on ``share`` of the unanswerable questions."""
    scores = sorted(a.score for a in asked if not a.question.answerable and a.rule is None)
    total = sum(1 for a in asked if not a.question.answerable)
    refused = total - len(scores)
    needed = int(-(-share * total // 1)) - refused  # still to abstain on, by threshold
    if needed <= 0 or not scores:
        return 0.0
    return scores[min(needed, len(scores)) - 1] + 1e-9


def _print_table(result: dict[str, Any], runs: Sequence[Run]) -> None:
    from rich.console import Console
    from rich.table import Table

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    table = Table(title="Abstention through Answerer (threshold calibrated on the tuning "
                        f"half: {result['calibrated_threshold']:.4f})")
    for column in ("corpus", "questions", "answered", "abstained", "cites gold", "AUC"):
        table.add_column(column, justify="left" if column == "corpus" else "right")
    for run in runs:
        entry = result[run.corpus]
        if "at_calibrated_threshold" in entry:
            at = entry["at_calibrated_threshold"]
            table.add_row(run.corpus, str(entry["questions"]), pct(at["answered"]),
                          pct(at["abstained"]), pct(at["answered_citing_gold_paragraph"]),
                          f"{entry['auc']:.3f}")
        else:
            table.add_row(run.corpus, str(entry["questions"]), "-",
                          pct(entry["abstained_at_calibrated_threshold"]), "-", "-")
            lacking, stated = entry["answer_lacking"], entry["answer_stated"]
            table.add_row("  answer in no passage", str(lacking["questions"]), "-",
                          pct(lacking["abstained_at_calibrated_threshold"]), "-", "-")
            table.add_row("  a passage states it", str(stated["questions"]), "-", "-",
                          pct(stated["answered_citing_a_stating_passage"]), "-")
    table.caption = ("answered: share of answerable questions answered; abstained: share of "
                     "unanswerable ones refused (RGB: all are meant to be); cites gold: "
                     "answered citing the question's own paragraph (RGB: a passage stating "
                     "the answer, bench/_stated.py)")
    console = Console(width=None if Console().is_terminal else 100)
    console.print(table)
    goal = result["goal"]
    held = result["squad-held-out"]["at_calibrated_threshold"]
    own = result["rgb-own-negatives"]
    rgb, lacking = own["abstained_at_calibrated_threshold"], own["answer_lacking"]
    console.print(
        f"goal: held-out answered >= {pct(goal['answered'])}: {pct(held['answered'])}; "
        f"abstained >= {pct(goal['abstained'])}: {pct(held['abstained'])}; "
        f"RGB abstained >= {pct(goal['rgb_abstained'])}: {pct(rgb)} (on the "
        f"{lacking['questions']} whose passages lack the answer: "
        f"{pct(lacking['abstained_at_calibrated_threshold'])})")
    strict = result["squad-held-out"]["at_threshold_abstaining_half_on_tuning"]
    console.print(
        f"trade-off: the threshold abstaining on {pct(goal['abstained'])} of the tuning half's "
        f"unanswerable questions ({result['threshold_abstaining_half_on_tuning']:.4f}) "
        f"answers {pct(strict['answered'])} of the held-out answerable ones and abstains on "
        f"{pct(strict['abstained'])} of its unanswerable ones")
    served_held = result["squad-held-out"]["served"]
    console.print(
        f"served default threshold {result['served_threshold']:.4f} (answer/_calibration.py):"
        f" held-out answered {pct(served_held['answered'])}, abstained "
        f"{pct(served_held['abstained'])}; RGB abstained "
        f"{pct(result['rgb-own-negatives']['served']['abstained_all'])}  "
        f"({result['sample']}, {result['seconds']:.0f} s)")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    runs = collect(args)
    result = report(runs, args=args, seconds=time.perf_counter() - started)
    path = write_result(args.out, result)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
