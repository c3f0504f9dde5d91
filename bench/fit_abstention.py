"""Fit the answerability model on the tuning half of SQuAD 2.0 and write its constants to
``answer/_calibration.py`` (a tool, not a benchmark: ``python -m bench`` does not run it).

    python -m bench.fit_abstention [--questions N] [--dry-run]

The tuning half (the first 8 articles in file order, see ``bench.abstention``) is indexed
and asked exactly as the benchmark does (``ingest_documents`` with MiniLM, ``Answerer``
with the extractive adapter). For every question a hard rule lets through (context present,
no missing name or code), the adapter's ``answerability_features`` are the inputs and
"answerable" the label of an L2-regularised logistic regression (Newton's method in numpy,
features standardised for the fit, the weights written back on the raw scale), under the
sign each weight may have (``answer.SIGNS``): a feature whose weight comes out the other way
is dropped and the rest refitted, and the script says so. Two models
are fitted: with MiniLM similarity (what the app serves) and lexical only (an adapter built
without ``embed``). Each one's threshold is the highest probability that still answers
``TARGET_ANSWER_RATE`` of the tuning half's answerable questions.

The held-out half is never read here: ``python -m bench.abstention`` reports it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench._data import ROOT
from bench.abstention import (
    TARGET_ANSWER_RATE,
    USER,
    Asked,
    ask_all,
    auc,
    calibrate,
    load_squad,
    rates,
    sample,
)

OUTPUT = ROOT / "answer" / "_calibration.py"
L2 = 1.0
"""Ridge penalty on the standardised weights (not the bias)."""


def fit_logistic(rows: Sequence[Sequence[float]], labels: Sequence[bool], *,
                 l2: float = L2, iterations: int = 50) -> tuple[float, list[float]]:
    """Bias and weights (raw feature scale) of a ridge logistic regression."""
    import numpy as np

    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / std])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        gradient = z.T @ (p - y) + penalty * beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    weights = beta[1:] / std
    bias = beta[0] - float(np.sum(weights * mean))
    return float(bias), [float(w) for w in weights]


def fit_signed(rows: Sequence[Sequence[float]], labels: Sequence[bool],
               ) -> tuple[float, list[float], list[str]]:
    """``fit_logistic`` under ``answer.SIGNS``: while a weight has the wrong sign, drop the
    feature whose standardised weight is most wrong and refit. Returns the bias, one weight
    per feature (0 for a dropped one) and the dropped features' names."""
    import numpy as np

    from answer import FEATURES, SIGNS

    active = list(range(len(FEATURES)))
    dropped: list[str] = []
    x = np.asarray(rows, dtype=np.float64)
    spread = x.std(axis=0)
    while True:
        bias, weights = fit_logistic(x[:, active].tolist(), labels)
        wrong = [(-SIGNS[FEATURES[i]] * w * spread[i], i)
                 for i, w in zip(active, weights, strict=True)
                 if SIGNS[FEATURES[i]] * w < 0]
        if not wrong:
            full = [0.0] * len(FEATURES)
            for i, w in zip(active, weights, strict=True):
                full[i] = w
            return bias, full, dropped
        worst = max(wrong)[1]
        active.remove(worst)
        dropped.append(FEATURES[worst])


def refit_rows(asked: Sequence[Asked], *, embed: Any) -> tuple[list[list[float]], list[bool],
                                                                  list[str | None]]:
    """Each question's features and rule from an adapter built with (or without) ``embed``."""
    from answer import FEATURES, AnswerRequest, ExtractiveAdapter

    adapter = ExtractiveAdapter(embed=embed)
    rows, labels, rules = [], [], []
    for a in asked:
        assessment = adapter.assess(AnswerRequest(a.question.text, a.context))
        rows.append([assessment.features[name] for name in FEATURES])
        labels.append(a.question.answerable)
        rules.append(assessment.rule)
    return rows, labels, rules


def _cross_validated(asked: Sequence[Asked], rows: list[list[float]],
                     rules: list[str | None]) -> str:
    """Each article scored by a model fitted on the others, its threshold calibrated on
    them: how the fit carries to articles it has not seen."""
    from answer import FEATURES, Model, answerability_probability

    articles = [a.question.doc.rsplit("-", 1)[0] for a in asked]
    scored: list[Asked] = []
    for article in dict.fromkeys(articles):
        train = [i for i, name in enumerate(articles) if name != article]
        bias, weights, _ = fit_signed([rows[i] for i in train if rules[i] is None],
                                      [asked[i].question.answerable for i in train
                                       if rules[i] is None])
        model = Model(bias=bias, weights=dict(zip(FEATURES, weights, strict=True)))
        rescored = {i: replace(asked[i], rule=rules[i], score=answerability_probability(
            dict(zip(FEATURES, rows[i], strict=True)), model)) for i in range(len(asked))}
        threshold = calibrate([rescored[i] for i in train])
        scored += [replace(rescored[i], score=rescored[i].score - threshold)
                   for i, name in enumerate(articles) if name == article]
    at = rates(scored, 0.0)
    return (f"answered {at['answered']:.1%}, abstained {at['abstained']:.1%} "
            f"(AUC {auc(scored)})")


def render(models: dict[str, tuple[float, list[float], float]], *, questions: int,
           fitted_rows: int) -> str:
    from answer import FEATURES

    lines = [
        '"""The fitted answerability models and their thresholds. Generated by',
        "``python -m bench.fit_abstention``: do not edit by hand, re-run it.",
        "",
        f"Fitted on {dt.date.today().isoformat()} on the tuning half of SQuAD 2.0 (the first",
        f"8 articles of squad2-dev-half in file order: {questions} questions, {fitted_rows} of",
        "them let through by the hard rules), asked through Clearance's own ingest, hybrid",
        "retrieval (top 5 chunks) and extractive adapter. Each threshold answers "
        f"{TARGET_ANSWER_RATE:.0%}",
        "of that half's answerable questions; ``python -m bench.abstention`` reports the",
        'held-out half."""',
        "",
        "from __future__ import annotations",
        "",
        "from .answerability import Model",
        "",
    ]
    for name, (bias, weights, threshold) in models.items():
        lines.append(f"{name} = Model(")
        lines.append(f"    bias={bias:.6f},")
        lines.append("    weights={")
        for feature, weight in zip(FEATURES, weights, strict=True):
            lines.append(f'        "{feature}": {weight:.6f},')
        lines.append("    },")
        lines.append(")")
        lines.append(f"THRESHOLD_{name} = {threshold:.4f}")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    import tempfile

    from answer import FEATURES, Model, answerability_probability

    parser = argparse.ArgumentParser(prog="python -m bench.fit_abstention", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=None,
                        help="a fixed sample of N tuning questions (default: all)")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    tuning, _held_out = load_squad()  # the held-out half is not touched
    everyone = frozenset({"everyone", USER})
    with tempfile.TemporaryDirectory(prefix="clearance-fit-") as tmp:
        (run,) = ask_all(tuning, sample(tuning.questions, args.questions),
                         data_dir=Path(tmp) / tuning.name, embedder="minilm",
                         variants=[(tuning.name, lambda q: everyone)], say=print)
    models: dict[str, tuple[float, list[float], float]] = {}
    for name, embed in (("WITH_EMBED", run.embed), ("LEXICAL", None)):
        rows, labels, rules = refit_rows(run.asked, embed=embed)
        kept = [i for i, rule in enumerate(rules) if rule is None]
        bias, weights, dropped = fit_signed([rows[i] for i in kept],
                                            [labels[i] for i in kept])
        model = Model(bias=bias, weights=dict(zip(FEATURES, weights, strict=True)))
        scores = [answerability_probability(dict(zip(FEATURES, row, strict=True)), model)
                  for row in rows]
        rescored = [replace(a, score=score, rule=rule)
                    for a, score, rule in zip(run.asked, scores, rules, strict=True)]
        threshold = math.floor(calibrate(rescored) * 10_000) / 10_000
        models[name] = (bias, weights, threshold)
        at = rates(rescored, threshold)
        print(f"{name}: threshold {threshold:.4f} answers {at['answered']:.1%} of the tuning "
              f"half's answerable questions and abstains on {at['abstained']:.1%} of its "
              f"unanswerable ones (AUC {auc(rescored)}); leave-one-article-out: "
              f"{_cross_validated(run.asked, rows, rules)}")
        print("  bias {:+.3f}; ".format(bias)
              + ", ".join(f"{f} {w:+.3f}" for f, w in zip(FEATURES, weights, strict=True))
              + (f"; dropped for a weight of the wrong sign: {dropped}" if dropped else ""))
    source = render(models, questions=len(run.asked),
                    fitted_rows=sum(1 for a in run.asked if a.rule is None))
    if args.dry_run:
        print(source)
    else:
        args.out.write_text(source)
        print(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
