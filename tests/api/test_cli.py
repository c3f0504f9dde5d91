"""`clearance ingest`: a folder of mixed documents, a summary, the held-shard case, and
sending through a running server instead; `clearance serve` stopping cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli
from api.cli import app
from api.cli_remote import RemoteIngest
from api.demo_loader import DEMO_DIR
from core import RawDocument
from ingest import FilesystemConnector
from tests.api.conftest import ADMIN_KEY, Api
from tests.helpers import free_port, hashing_services

CORPUS = DEMO_DIR / "corpus"


def _env(data_dir: Path) -> dict[str, str]:
    return {"CLEARANCE_DATA_DIR": str(data_dir), "CLEARANCE_EMBEDDER": "hashing"}


def test_ingest_a_folder_of_mixed_documents_prints_a_summary(data_dir: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", str(CORPUS), "--source", "demo"], env=_env(data_dir))
    assert first.exit_code == 0, first.output
    documents = sum(1 for p in CORPUS.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert "indexed" in first.output and str(documents) in first.output
    assert "chunks/s" in first.output
    again = runner.invoke(app, ["ingest", str(CORPUS), "--source", "demo"], env=_env(data_dir))
    assert again.exit_code == 0 and "unchanged" in again.output


def test_failures_are_summarised_by_code(tmp_path: Path, data_dir: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / ".acl.json").write_text('{"allow": ["everyone"]}')
    (folder / "good.md").write_text("# Policy\n\nReceipts are due in thirty days.")
    (folder / "bad.pdf").write_bytes(b"%PDF-1.7 not really")
    (folder / "empty.txt").write_bytes(b"")
    result = CliRunner().invoke(app, ["ingest", str(folder), "--source", "s"],
                                env=_env(data_dir))
    assert result.exit_code == 1
    assert "document_unparseable" in result.output and "document_empty" in result.output


def test_ingest_says_when_a_server_holds_the_index(data_dir: Path) -> None:
    holder = hashing_services(data_dir)
    try:
        result = CliRunner().invoke(app, ["ingest", str(CORPUS), "--source", "demo"],
                                    env=_env(data_dir))
    finally:
        holder.close()
    output = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "held by a running Clearance server" in output
    assert f"clearance ingest {CORPUS} --source demo --server http://127.0.0.1:8000" in output


def test_serve_stopped_by_sigterm_closes_the_index_and_forgets_its_url(data_dir: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port)],
        env={**os.environ, **_env(data_dir)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        note = data_dir / cli.SERVING_NOTE
        deadline = time.monotonic() + 60
        while not _healthy(port):
            assert server.poll() is None and time.monotonic() < deadline, server.stdout
            time.sleep(0.1)
        assert json.loads(note.read_text())["url"] == f"http://127.0.0.1:{port}"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        server.kill()
    assert not note.exists()
    reopened = hashing_services(data_dir)  # the shard was released
    reopened.close()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_ingest_names_the_url_the_holding_server_listens_on(data_dir: Path) -> None:
    holder = hashing_services(data_dir)
    note = cli._note_serving(holder.settings, host="0.0.0.0", port=8123)  # as serve does
    try:
        result = CliRunner().invoke(app, ["ingest", str(CORPUS), "--source", "demo"],
                                    env=_env(data_dir))
    finally:
        note.unlink()
        holder.close()
    assert result.exit_code == 2
    assert "--server http://127.0.0.1:8123" in " ".join(result.output.split())


def test_ingest_through_a_running_server(api: Api) -> None:
    client: TestClient = api.client
    remote = RemoteIngest("http://testserver", key=ADMIN_KEY, source="demo",
                          tenant="default", client=client)  # type: ignore[arg-type]
    raws = [d for d in FilesystemConnector(CORPUS, max_bytes=10**8).documents()
            if isinstance(d, RawDocument)][:5]
    [results] = list(remote.send_all([raws]))  # what `clearance ingest --server` calls
    assert [r[0] for r in results] == ["indexed"] * 5
    hits = api.search("lena.fischer@northwind.example", "guest wifi", top_k=5)
    assert isinstance(hits, list)


@pytest.mark.parametrize("argv", [["ingest", "--help"], ["serve", "--help"]])
def test_commands_explain_themselves(argv: list[str]) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0 and "Usage" in result.output


def test_serve_demo_prints_every_key_and_command_whole_on_a_narrow_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """"Ready-to-paste" means no line break inside a key or a curl command, whatever the
    terminal's width."""
    from fastapi import FastAPI

    from tests.helpers import hashing_services, settings_for

    monkeypatch.setenv("COLUMNS", "60")
    settings = settings_for(tmp_path, admin_api_key="ck_admin_for_the_demo_test")
    services = hashing_services(tmp_path, admin_api_key="ck_admin_for_the_demo_test")
    try:
        cli._prepare_demo(FastAPI(), services, settings, host="127.0.0.1", port=8000)
    finally:
        services.close()
    lines = capsys.readouterr().out.splitlines()
    keys = [line.split()[-1] for line in lines if line.strip().startswith("user:")
            and line.split()[-1].startswith("ck_")]
    assert len(keys) >= 10 and all(len(k) > 30 for k in keys)
    assert any(f"-H 'Authorization: Bearer {keys[0]}'" in line for line in lines)
    commands = [line for line in lines if line.lstrip().startswith("curl -s http")]
    assert len(commands) == 3 and all(line.rstrip().endswith("\\") for line in commands)


def test_serve_optimizes_and_reads_the_index_before_it_listens(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Edge's optimize() holds the GIL: it must be done before requests arrive, never
    beside them (index/store/edge.py); then the shard is read into the page cache, within
    half of the memory available, so the first searches do not wait on the disk."""
    import uvicorn

    from index.store import EdgeStore

    calls: list[str] = []

    def optimize(store: EdgeStore) -> bool:
        calls.append("optimize")
        return True

    def page_in(store: EdgeStore, *, budget_bytes: int) -> int:
        assert budget_bytes >= 0  # half the memory available (the next test sizes it)
        calls.append("page_in")
        return 0

    monkeypatch.setattr(EdgeStore, "optimize", optimize)
    monkeypatch.setattr(EdgeStore, "page_in", page_in)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append("listen"))
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port())],
                                env={**_env(data_dir), "CLEARANCE_ADMIN_API_KEY": ADMIN_KEY})
    assert result.exit_code == 0, result.output
    assert calls == ["optimize", "page_in", "listen"]
    assert "Search index optimized" in result.output


def test_the_page_in_budget_stays_within_a_containers_memory_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a container /proc/meminfo describes the host: the cgroup's limit caps it."""
    limit, usage = tmp_path / "memory.max", tmp_path / "memory.current"
    monkeypatch.setattr(cli, "_CGROUP_MEMORY", ((str(limit), str(usage)),))
    usage.write_text(f"{512 * 2**20}\n")
    limit.write_text("max\n")
    unlimited = cli._available_memory()
    assert unlimited > 0
    limit.write_text(f"{2**30}\n")
    assert cli._available_memory() == min(unlimited, 512 * 2**20)
    usage.write_text(f"{2**31}\n")  # over the limit already: nothing to spare
    assert cli._available_memory() == 0


def test_ingest_optimizes_the_index_after_its_last_batch(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from index.store import EdgeStore

    counted: list[int] = []
    real_optimize = EdgeStore.optimize

    def optimize(store: EdgeStore) -> bool:
        counted.append(store.count(tenant="default"))
        return real_optimize(store)

    monkeypatch.setattr(EdgeStore, "optimize", optimize)
    result = CliRunner().invoke(app, ["ingest", str(CORPUS), "--source", "demo"],
                                env=_env(data_dir))
    assert result.exit_code == 0, result.output
    assert len(counted) == 1 and counted[0] > 0  # once, with every chunk written
