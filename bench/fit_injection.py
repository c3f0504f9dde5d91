"""Fit the injection classifier and write ``answer/_injection_model.json`` (a tool, not a
benchmark: ``python -m bench`` does not run it).

    python -m bench.fit_injection [--dry-run]

Training data (``bench._injection_data`` holds the split; evaluation data is never read):

- injected instructions: every sentence of BIPIA's 75 *train* text attacks and the
  instruction line of its 50 *train* code attacks (the code block under it is code, like the
  code in Stack Overflow answers);
- benign text: every sentence or line of the first 2,000 SciFact abstracts, the first 8
  SQuAD articles, BIPIA's train e-mails and the training halves of its table and Stack
  Overflow contexts.

The model is ``answer.InjectionModel``: an L2-regularised logistic regression over
``answer.injection.segment_features`` (binary, divided by the root of their count), the two
classes weighted equally, fitted with L-BFGS in numpy. Weights under ``PRUNE`` in size are
left out (in cross-validation too): about 3,700 of 235,000 remain, and a
benign document's score moves by less than 0.1.

The threshold is set by 5-fold cross-validation inside the training data: each fold holds
out a fifth of the benign documents and a fifth of the attack *categories* (the test
attacks are of categories never seen in training), fits on the rest and scores the held-out
documents whole, as a chunk is scored (its highest segment), and the training attacks
inserted into training contexts the way BIPIA does. The threshold is the lowest that flags
at most ``TARGET_FALSE_FLAGS`` of the held-out SciFact and SQuAD training documents (half
the 2% goal, as a margin for unseen text). The cross-validated flag rates are written beside
the weights; ``python -m bench.injection`` measures the fitted model on held-out data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from answer.injection import InjectionModel, segment_features, segments
from bench import _injection_data as data
from bench._data import ROOT
from bench.injection import memoised_score

OUTPUT = ROOT / "answer" / "_injection_model.json"
L2 = 1.0
"""Ridge penalty on the weights (not the bias), with the data term summed over segments."""
PRUNE = 0.05
TARGET_FALSE_FLAGS = 0.01
FOLDS = 5
CV_HOSTS_PER_TASK = 20
"""Training contexts per BIPIA task the held-out attacks are inserted into, per fold."""


@dataclass(frozen=True)
class Example:
    text: str
    label: bool
    fold: int


def training_segments(say: Callable[[str], None] = print) -> tuple[list[Example], dict[str, Any]]:
    """Every training segment with its label and its cross-validation fold."""
    attacks = data.attacks("train")
    categories = sorted({a.category for a in attacks})
    examples: list[Example] = []
    for attack in attacks:
        fold = categories.index(attack.category) % FOLDS
        parts = segments(attack.text)
        for part in parts if attack.kind == "text" else parts[:1]:
            examples.append(Example(part, True, fold))
    benign = benign_documents()
    for number, (_, text) in enumerate(benign):
        examples.extend(Example(part, False, number % FOLDS) for part in segments(text))
    summary = {
        "attacks": {"text": sum(a.kind == "text" for a in attacks),
                    "code": sum(a.kind == "code" for a in attacks),
                    "categories": len(categories)},
        "benign_documents": {source: sum(s == source for s, _ in benign)
                             for source in dict.fromkeys(s for s, _ in benign)},
        "segments": {"injected": sum(e.label for e in examples),
                     "benign": sum(not e.label for e in examples)},
    }
    say(f"training: {summary['segments']['injected']} injected and "
        f"{summary['segments']['benign']} benign segments")
    return examples, summary


def benign_documents() -> list[tuple[str, str]]:
    """(source, text): the training side of SciFact, SQuAD and BIPIA's contexts."""
    return ([("scifact", t) for t in data.scifact("train")]
            + [("squad", t) for t in data.squad("train")]
            + [(f"bipia-{h.task}", h.text) for h in data.hosts("train")])


# -- the regression -------------------------------------------------------------------------


def fit(examples: Sequence[Example], *, l2: float = L2) -> InjectionModel:
    """The logistic regression on ``examples`` (threshold left at 0)."""
    vocabulary: dict[str, int] = {}
    rows: list[list[int]] = []
    norms: list[float] = []
    labels: list[float] = []
    for example in examples:
        features = segment_features(example.text)
        if not features:
            continue
        rows.append([vocabulary.setdefault(f, len(vocabulary)) for f in sorted(features)])
        norms.append(1.0 / math.sqrt(len(features)))
        labels.append(1.0 if example.label else 0.0)
    lengths = np.array([len(r) for r in rows])
    indices = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows])
    values = np.repeat(np.asarray(norms), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    y = np.asarray(labels)
    positives = y.sum()
    # each class weighs as much as the other, like scikit-learn's class_weight="balanced"
    sample = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * (len(y) - positives)))
    size = len(vocabulary)

    def loss_and_gradient(beta: np.ndarray) -> tuple[float, np.ndarray]:
        bias, weights = beta[0], beta[1:]
        z = bias + np.add.reduceat(values * weights[indices], starts)
        p = 1.0 / (1.0 + np.exp(-z))
        loss = float(np.sum(sample * (np.logaddexp(0, z) - y * z)) + l2 / 2 * weights @ weights)
        residual = sample * (p - y)
        gradient = np.empty_like(beta)
        gradient[0] = residual.sum()
        gradient[1:] = np.bincount(indices, weights=values * np.repeat(residual, lengths),
                                   minlength=size) + l2 * weights
        return loss, gradient

    beta = lbfgs(loss_and_gradient, np.zeros(size + 1))
    names = list(vocabulary)
    return InjectionModel(bias=float(beta[0]), threshold=0.0,
                          weights={names[i]: float(w) for i, w in enumerate(beta[1:])})


def lbfgs(objective: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray, *,
          memory: int = 10, iterations: int = 500, tolerance: float = 1e-6) -> np.ndarray:
    """Minimise a smooth convex ``objective`` (value, gradient) by L-BFGS with a
    backtracking (Armijo) line search."""
    x = start.copy()
    value, gradient = objective(x)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []
    for _ in range(iterations):
        if np.max(np.abs(gradient)) < tolerance:
            break
        direction = -gradient
        alphas = []
        for s, g, rho in reversed(steps):
            alpha = rho * (s @ direction)
            direction = direction - alpha * g
            alphas.append(alpha)
        if steps:
            s, g, _ = steps[-1]
            direction = direction * (s @ g) / (g @ g)
        for (s, g, rho), alpha in zip(steps, reversed(alphas), strict=True):
            direction = direction + s * (alpha - rho * (g @ direction))
        slope = gradient @ direction
        if slope >= 0:  # not a descent direction: start the memory afresh
            steps.clear()
            direction, slope = -gradient, -(gradient @ gradient)
        step = 1.0
        while True:
            candidate = x + step * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step /= 2
        s_k, g_k = candidate - x, new_gradient - gradient
        curvature = s_k @ g_k
        if curvature > 1e-12:
            steps.append((s_k, g_k, 1.0 / curvature))
            del steps[:-memory]
        if abs(value - new_value) < 1e-10 * max(1.0, abs(value)):
            x, value, gradient = candidate, new_value, new_gradient
            break
        x, value, gradient = candidate, new_value, new_gradient
    return x


def pruned(model: InjectionModel, threshold: float) -> InjectionModel:
    return InjectionModel(bias=model.bias, threshold=threshold,
                          weights={f: w for f, w in model.weights.items() if abs(w) >= PRUNE})


# -- the threshold --------------------------------------------------------------------------


def cross_validate(examples: Sequence[Example], *, say: Callable[[str], None] = print,
                   ) -> dict[str, Any]:
    """Held-out document scores per fold: benign documents, and the held-out categories'
    training attacks inserted into training contexts (and alone)."""
    benign = benign_documents()
    attacks = data.attacks("train")
    categories = sorted({a.category for a in attacks})
    benign_scores: list[tuple[str, float]] = []
    attack_scores: list[tuple[str, float]] = []
    for fold in range(FOLDS):
        model = pruned(fit([e for e in examples if e.fold != fold]), 0.0)
        score = memoised_score(model)
        benign_scores += [(source, score(text)) for number, (source, text) in enumerate(benign)
                          if number % FOLDS == fold]
        held_out = {c for c in categories if categories.index(c) % FOLDS == fold}
        attack_scores += [(p.task, score(p.text)) for p in
                          data.poisoned("train", host_limit=CV_HOSTS_PER_TASK,
                                        attack_filter=held_out)]
        attack_scores += [("alone", score(a.text)) for a in attacks if a.category in held_out]
        say(f"  fold {fold + 1}/{FOLDS}: {len(held_out)} attack categories held out")
    return {"benign": benign_scores, "attacks": attack_scores}


def threshold_for(scores: Sequence[float], false_flags: float) -> float:
    """The lowest threshold (``score >= threshold`` flags) that flags at most
    ``false_flags`` of ``scores``."""
    ranked = sorted(scores, reverse=True)
    allowed = int(false_flags * len(ranked))
    if allowed >= len(ranked):
        return -math.inf
    return float(np.nextafter(ranked[allowed], math.inf))


def rates_at(cv: dict[str, Any], threshold: float) -> dict[str, dict[str, float]]:
    def share(rows: list[tuple[str, float]], key: str) -> float:
        chosen = [s for k, s in rows if k == key]
        return round(sum(s >= threshold for s in chosen) / len(chosen), 4) if chosen else 0.0
    return {"flagged": {k: share(cv["attacks"], k) for k in
                        dict.fromkeys(k for k, _ in cv["attacks"])},
            "false_flags": {k: share(cv["benign"], k) for k in
                            dict.fromkeys(k for k, _ in cv["benign"])}}


# -- the command ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fit_injection", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    examples, summary = training_segments()
    cv = cross_validate(examples)
    measured = [s for source, s in cv["benign"] if source in ("scifact", "squad")]
    threshold = threshold_for(measured, TARGET_FALSE_FLAGS)
    cv_rates = rates_at(cv, threshold)
    print(f"threshold {threshold:.4f} (cross-validated): flagged {cv_rates['flagged']}, "
          f"false flags {cv_rates['false_flags']}")
    full = fit(examples)
    model = pruned(full, threshold)
    print(f"{len(model.weights)} of {len(full.weights)} weights kept (|w| >= {PRUNE})")
    document = {
        "about": "Generated by `python -m bench.fit_injection`: do not edit by hand, re-run "
                 "it. See answer/injection.py for how it is used.",
        "fitted_on": dt.date.today().isoformat(),
        "model": "logistic regression over answer.injection.segment_features; a text scores "
                 "its highest segment logit and is flagged at or above the threshold",
        "l2": L2,
        "pruned_below": PRUNE,
        "target_false_flags": TARGET_FALSE_FLAGS,
        "training": summary,
        "cross_validated": cv_rates,
        "bias": round(model.bias, 6),
        "threshold": math.ceil(threshold * 1e6) / 1e6,
        "weights": {f: round(w, 4) for f, w in sorted(model.weights.items())},
    }
    if args.dry_run:
        print(json.dumps({k: v for k, v in document.items() if k != "weights"}, indent=1))
    else:
        OUTPUT.write_text(json.dumps(document, indent=0, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
