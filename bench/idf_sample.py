"""What measuring keyword IDF on a sample costs in quality, by sample size.

``index/store/idf_sample.py`` measures a caller's IDF on a fixed sample of what they may
read once that is large, because the engine's time for IDF grows with the points it
measures. This bench sizes that sample: BM25 over SciFact plus filler (60 words of a real
abstract, as ``bench.search_latency`` writes it) up to each corpus size, the corpus being
everything the caller may read, ranked with IDF from all of it and from random samples of
each size (several draws: a sample is one draw of the points' hashes). It uses Clearance's
own keyword vectors (``index/sparse.py``) and the engine's IDF formula, in numpy, so no
index is built. One point per SciFact document (title and text); SciFact test claims,
nDCG@10.

    python -m bench.idf_sample [--corpus 50000,500000] [--samples 1500,3000,6000,12000,24000]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bench._data import dataset_dir, write_result
from bench.beir import BeirData, load_beir, ndcg_at
from index.sparse import encode_document, encode_query

FILLER_WORDS = 60
"""Words per filler text, as ``bench.search_latency`` writes them."""


@dataclass
class Postings:
    """The corpus as an inverted index: term → (point numbers, BM25 document values)."""

    terms: dict[int, tuple[np.ndarray, np.ndarray]]
    doc_of: list[str]
    """Point number → its document id (filler points: ``filler-n``)."""

    @property
    def size(self) -> int:
        return len(self.doc_of)


def build_corpus(data: BeirData, size: int, *, seed: int = 11) -> Postings:
    """SciFact's documents (title and text) and filler up to ``size`` points."""
    rng = np.random.default_rng(seed)
    texts = [(doc_id, f"{title}\n{text}") for doc_id, (title, text) in data.corpus.items()]
    words = [text.split() for _, text in texts]
    for n in range(max(0, size - len(texts))):
        source = words[int(rng.integers(len(words)))]
        picked = rng.choice(len(source), size=min(FILLER_WORDS, len(source)), replace=False)
        texts.append((f"filler-{n}", " ".join(source[i] for i in sorted(picked))))
    lists: dict[int, tuple[list[int], list[float]]] = {}
    for point, (_, text) in enumerate(texts):
        vector = encode_document(text)
        for index, value in zip(vector.indices, vector.values, strict=True):
            entry = lists.setdefault(index, ([], []))
            entry[0].append(point)
            entry[1].append(value)
    terms = {t: (np.array(p, dtype=np.int64), np.array(v, dtype=np.float32))
             for t, (p, v) in lists.items()}
    return Postings(terms=terms, doc_of=[doc_id for doc_id, _ in texts])


def idf(postings: Postings, term: int, sample: np.ndarray | None) -> float:
    """Qdrant's IDF modifier, ln(1 + (N - n + 0.5) / (n + 0.5)), over the sample's points
    (None: all of them)."""
    points = postings.terms[term][0]
    if sample is None:
        total, having = postings.size, len(points)
    else:
        total, having = int(sample.sum()), int(sample[points].sum())
    return math.log(1 + (total - having + 0.5) / (having + 0.5))


def keyword_ndcg(postings: Postings, data: BeirData, sample: np.ndarray | None) -> float:
    """Mean nDCG@10 of BM25 with IDF measured on ``sample``, one hit per document."""
    scores = np.zeros(postings.size, dtype=np.float32)
    total = 0.0
    for qid, text in data.queries.items():
        terms = [t for t in encode_query(text).indices if t in postings.terms]
        scores[:] = 0
        for term in terms:
            points, values = postings.terms[term]
            scores[points] += idf(postings, term, sample) * values
        ranked: list[str] = []
        for point in np.argsort(-scores)[:200]:
            if scores[point] <= 0 or len(ranked) == 10:
                break
            if (doc := postings.doc_of[point]) not in ranked:
                ranked.append(doc)
        total += ndcg_at(ranked, data.qrels[qid])
    return total / len(data.queries)


def measure(data: BeirData, *, size: int, samples: Sequence[int], draws: int,
            say: Callable[[str], None]) -> dict[str, Any]:
    started = time.perf_counter()
    postings = build_corpus(data, size)
    exact = keyword_ndcg(postings, data, None)
    say(f"  {size:,} points: exact IDF nDCG@10 {exact:.4f} "
        f"(built in {time.perf_counter() - started:.0f} s)")
    rng = np.random.default_rng(0)
    rows: dict[str, Any] = {}
    for wanted in samples:
        if wanted >= size:
            continue
        scores = [keyword_ndcg(postings, data, rng.random(size) < wanted / size)
                  for _ in range(draws)]
        rows[str(wanted)] = {"mean": statistics.fmean(scores), "min": min(scores),
                             "sd": statistics.pstdev(scores), "draws": scores}
        say(f"    sample {wanted:,}: {rows[str(wanted)]['mean']:.4f}")
    return {"points": size, "exact": exact, "samples": rows}


def print_table(result: dict[str, Any]) -> None:
    table = Table(title="Keyword leg nDCG@10, IDF on a random sample of the readable corpus "
                        f"({result['draws']} draws each)")
    for name in ("readable points", "sample", "mean", "sd", "worst", "mean - exact"):
        table.add_column(name, justify="right")
    for size in result["corpus"].values():
        table.add_row(f"{size['points']:,}", "all", f"{size['exact']:.4f}", "", "", "")
        for wanted, row in size["samples"].items():
            table.add_row("", f"{int(wanted):,}", f"{row['mean']:.4f}", f"{row['sd']:.4f}",
                          f"{row['min']:.4f}", f"{row['mean'] - size['exact']:+.4f}")
    Console().print(table)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="50000,500000",
                        help="readable corpus sizes in points (SciFact plus filler)")
    parser.add_argument("--samples", default="1500,3000,6000,12000,24000",
                        help="sample sizes to measure IDF on")
    parser.add_argument("--draws", type=int, default=6, help="random samples per size")
    parser.add_argument("--path", type=Path, default=None,
                        help="a BEIR folder instead of SciFact under CLEARANCE_EVAL_DATA")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file (default bench/results/idf_sample.json)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, say: Callable[[str], None] = print) -> dict[str, Any]:
    data = load_beir(args.path or dataset_dir("scifact"))
    samples = [int(n) for n in args.samples.split(",")]
    result: dict[str, Any] = {"dataset": data.name, "queries": len(data.queries),
                              "draws": args.draws, "corpus": {}}
    for size in (int(n) for n in args.corpus.split(",")):
        result["corpus"][str(size)] = measure(data, size=size, samples=samples,
                                              draws=args.draws, say=say)
    say(f"wrote {write_result('idf_sample', result, args.out)}")
    return result


def main(argv: Sequence[str] | None = None) -> None:
    print_table(run(parse_args(argv)))


if __name__ == "__main__":
    main()
