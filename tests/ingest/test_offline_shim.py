"""unstructured runs offline: no telemetry, no spaCy download, no model weights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.parse import DOCX, PPTX, parse_document
from ingest.parse._offline import OFFLINE_ENV, offline_nlp, prepare_unstructured

from ._make import HTML, docx_bytes, pptx_bytes, raw


def test_prepare_opts_out_of_telemetry_and_the_usage_notice() -> None:
    prepare_unstructured()
    from unstructured.utils import _telemetry_opt_out

    assert all(os.environ[name] == value for name, value in OFFLINE_ENV.items())
    assert _telemetry_opt_out()


def test_unstructured_gets_our_blank_pipeline_instead_of_en_core_web_sm() -> None:
    prepare_unstructured()
    from unstructured.nlp import tokenize

    nlp = tokenize._get_nlp()

    assert nlp is offline_nlp()
    assert nlp.pipe_names == ["sentencizer"]
    assert tokenize.sent_tokenize("One sentence. Another one!") == ["One sentence.", "Another one!"]


def test_the_spacy_installer_refuses_instead_of_downloading() -> None:
    prepare_unstructured()
    from unstructured.nlp import tokenize

    with pytest.raises(RuntimeError, match="download"):
        tokenize._install_spacy_model()


def test_partitioning_every_unstructured_format_makes_no_network_attempt(
    network_attempts: list[str],
) -> None:
    for content, mime in [(docx_bytes(), DOCX), (pptx_bytes(), PPTX),
                          (HTML.encode(), "text/html"), (b"# T\n\nText.", "text/markdown")]:
        assert parse_document(raw(content, mime), max_bytes=10_000_000)

    assert network_attempts == []


def test_a_fresh_process_parses_with_sockets_disabled_and_no_env_preset() -> None:
    """The shim must work before anything else touched unstructured, without env vars."""
    script = (
        "import socket\n"
        "def refuse(*a, **k): raise SystemExit('network attempt')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from ingest.parse import parse_document, DOCX\n"
        "from tests.ingest._make import docx_bytes, raw\n"
        "elements = parse_document(raw(docx_bytes(), DOCX), max_bytes=10**7)\n"
        "import spacy.util, sys\n"
        "assert 'en_core_web_sm' not in sys.modules\n"
        "print(len(elements))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=120, check=False,
                            cwd=Path(__file__).resolve().parents[2])

    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) > 3


def test_warm_up_imports_the_partitioners_ahead_of_the_first_document() -> None:
    from ingest.parse import warm_up_parsers

    warm_up_parsers()

    assert {"unstructured.partition.docx", "unstructured.partition.pptx",
            "unstructured.partition.html", "unstructured.partition.md"} <= set(sys.modules)
