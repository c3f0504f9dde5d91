"""Where evaluation data lives (read in place, never copied) and where results go."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def data_root() -> Path:
    """``$CLEARANCE_EVAL_DATA``, else ``../shared/data`` beside the repo."""
    return Path(os.environ.get("CLEARANCE_EVAL_DATA", ROOT.parent / "shared" / "data"))


def dataset_dir(name: str) -> Path:
    path = data_root() / name
    if not path.is_dir():
        raise SystemExit(f"No dataset {name!r} under {data_root()}: set CLEARANCE_EVAL_DATA "
                         "to the folder holding it (see ../shared/data/*/SOURCE.md).")
    return path


def write_result(name: str, data: dict[str, Any], out: Path | None = None) -> Path:
    """``data`` as JSON in ``out``, or by default in ``bench/results/<name>.json``."""
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))
    return path
