"""The ``clearance`` command: ``ingest`` a folder, ``serve`` the API."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core import DEFAULT_TENANT, RawDocument, Settings
from core.errors import StoreLocked

if TYPE_CHECKING:
    from fastapi import FastAPI

    from index.store import VectorStore
    from workers.services import Services

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Clearance: permission-aware answers from your company's documents.")
console = Console(stderr=True)

BATCH_DOCUMENTS = 256
"""Documents per pipeline call: the embedder sorts each call's chunks by length, so bigger
calls pad less (bench.ingest_speed, 1,500 SciFact docs: 64 -> 0.66 of embed-only
throughput, 256 -> 0.80, 1,024 -> 0.79)."""

_Result = tuple[str, int, "str | None", "str | None"]
"""(status, chunks, error code, error message) of one document."""


def _offline_env() -> None:
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DO_NOT_TRACK"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, file_okay=False, resolve_path=True,
                                         help="Folder to ingest (may hold .acl.json files).")],
    source: Annotated[str, typer.Option("--source", help="Source name (created if new).")],
    tenant: Annotated[str, typer.Option(help="Tenant the documents belong to.")] = DEFAULT_TENANT,
    server: Annotated[str | None, typer.Option(
        help="Send documents through a running server's API instead of opening the index.")
    ] = None,
    key: Annotated[str | None, typer.Option(
        envvar="CLEARANCE_ADMIN_API_KEY", help="Admin API key for --server.")] = None,
) -> None:
    """Parse, chunk, embed and index every document under PATH, with its folder's ACL."""
    _offline_env()
    settings = Settings()
    from ingest import FilesystemConnector

    connector = FilesystemConnector(path, max_bytes=settings.max_upload_bytes)
    if server:
        from .cli_remote import RemoteIngest

        sink: _Sink = RemoteIngest(server, key=key, source=source, tenant=tenant)
    else:
        sink = _local_sink(settings, source=source, tenant=tenant,
                           retry_hint=f"clearance ingest {path} --source {source} "
                                      f"--server {_serving_url(settings)}")
    try:
        counts, failures, chunks, seconds = _run(connector.documents(), sink)
    finally:
        sink.close()
    _print_summary(counts, failures, chunks, seconds)
    if counts.get("failed"):
        raise typer.Exit(code=1)


class _Sink(Protocol):
    """Where ``clearance ingest`` sends its batches: this process's index or a server."""
    device: str

    def send_all(self, batches: Iterable[list[RawDocument]]) -> Iterator[list[_Result]]:
        """(status, chunks, error code, error message) per document, a list per batch,
        in order."""
        ...

    def close(self) -> None: ...


class _LocalSink:
    def __init__(self, settings: Settings, *, source: str, tenant: str) -> None:
        from workers.pipeline import ingest_batches
        from workers.services import build_services
        from workers.sources import get_or_create_source

        self._ingest_batches = ingest_batches
        self.services = build_services(settings)
        self.device = self.services.embedder.device
        self.tenant = tenant
        with self.services.sessions() as session, session.begin():
            self.source_id = get_or_create_source(session, tenant=tenant, name=source,
                                                  kind="filesystem").id

    def send_all(self, batches: Iterable[list[RawDocument]]) -> Iterator[list[_Result]]:
        """Parses and chunks the next batch while this one embeds (``ingest_batches``)."""
        for outcomes in self._ingest_batches(self.services, batches, tenant=self.tenant,
                                             source_id=self.source_id):
            yield [(o.status, o.chunks, o.error_code, o.error_message) for o in outcomes]

    def close(self) -> None:
        try:
            optimize_index(self.services.store)
        finally:
            self.services.close()


def optimize_index(store: VectorStore) -> None:
    """Index what was written to the embedded shard since it was last optimized (a no-op
    when nothing is planned; a Qdrant server optimizes by itself). Edge's optimizer holds
    the GIL while it runs (index/store/edge.py), so this runs only where no request can
    wait: before ``serve`` listens, after ``ingest`` wrote its last batch. Without it,
    a search scans every chunk written since (100k chunks: p50 26 ms instead of 12.5 ms)."""
    from index.store import EdgeStore

    if not isinstance(store, EdgeStore):
        return
    started = time.perf_counter()
    with console.status("Indexing the chunks written since the index was last optimized…"):
        changed = store.optimize()
    if changed:
        console.print(f"Search index optimized in {time.perf_counter() - started:.0f} s.")


def page_in_index(store: VectorStore) -> None:
    """Read the embedded shard into the OS page cache, up to half the memory available,
    so the first searches after a start do not wait on the disk (``EdgeStore.page_in``;
    a Qdrant server keeps its own)."""
    from index.store import EdgeStore

    if not isinstance(store, EdgeStore):
        return
    started = time.perf_counter()
    with console.status("Reading the search index into memory…"):
        done = store.page_in(budget_bytes=_available_memory() // 2)
    elapsed = time.perf_counter() - started
    if elapsed >= 1:
        console.print(f"Search index read into memory ({done / 2**20:,.0f} MB in {elapsed:.0f} s).")


_CGROUP_MEMORY = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                  ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                   "/sys/fs/cgroup/memory/memory.usage_in_bytes"))
"""A container's memory limit and use: cgroup v2, then v1."""


def _available_memory() -> int:
    """Bytes the process can fill without pushing out other memory: Linux's MemAvailable,
    capped by the room left under its container's memory limit (in a container
    /proc/meminfo describes the host); 0 if unknown."""
    available = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    for limit_file, usage_file in _CGROUP_MEMORY:
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text())
        except (OSError, ValueError):
            continue
        if limit.isdigit():  # v2 says "max" when there is no limit
            available = min(available, max(0, int(limit) - usage))
        break
    return available


def _local_sink(settings: Settings, *, source: str, tenant: str, retry_hint: str) -> _Sink:
    try:
        return _LocalSink(settings, source=source, tenant=tenant)
    except StoreLocked:
        console.print(
            f"[red]The index under {settings.edge_path} is held by a running Clearance "
            "server[/red] (an embedded shard opens in one process only). Send the documents "
            f"through it instead, with an admin key in --key or CLEARANCE_ADMIN_API_KEY "
            f"(serve --demo prints one):\n  {retry_hint}", soft_wrap=True)
        raise typer.Exit(code=2) from None


def _batches(items: Iterable[object], size: int) -> Iterator[list[object]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _run(items: Iterable[object], sink: _Sink,
         ) -> tuple[Counter[str], Counter[str], int, float]:
    from ingest import ConnectorFailure

    counts: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    chunks = 0
    started = time.perf_counter()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("docs · {task.fields[chunks]} chunks · {task.fields[rate]} chunks/s"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"ingesting ({sink.device})", total=None, chunks=0, rate="-")
        def raw_batches() -> Iterator[list[RawDocument]]:
            """The connector's documents in batches; its failures are counted here, as
            the sink reads them (a batch ahead of the loop below)."""
            for batch in _batches(items, BATCH_DOCUMENTS):
                for item in batch:
                    if isinstance(item, ConnectorFailure):
                        counts["failed"] += 1
                        failures[item.code] += 1
                        progress.update(task, advance=1)
                if raws := [item for item in batch if isinstance(item, RawDocument)]:
                    yield raws

        for results in sink.send_all(raw_batches()):
            for status, n_chunks, code, _message in results:
                counts[status] += 1
                chunks += n_chunks if status == "indexed" else 0
                if code:
                    failures[code] += 1
            elapsed = time.perf_counter() - started
            progress.update(task, advance=len(results), chunks=chunks,
                            rate=f"{chunks / elapsed:.1f}" if elapsed else "-")
    return counts, failures, chunks, time.perf_counter() - started


def _print_summary(counts: Counter[str], failures: Counter[str], chunks: int,
                   seconds: float) -> None:
    table = Table(title="clearance ingest")
    table.add_column("documents")
    table.add_column("count", justify="right")
    for status in ("indexed", "unchanged", "acl_updated", "superseded", "failed"):
        if counts.get(status):
            table.add_row(status, str(counts[status]))
    table.add_row("chunks indexed", str(chunks))
    table.add_row("seconds", f"{seconds:.1f}")
    table.add_row("chunks/s", f"{chunks / seconds:.1f}" if seconds else "-")
    Console().print(table)
    if failures:
        errors = Table(title="failures by error code")
        errors.add_column("code")
        errors.add_column("documents", justify="right")
        for code, n in failures.most_common():
            errors.add_row(code, str(n))
        Console().print(errors)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Load the demo company into an empty data dir; print demo keys.")
    ] = False,
) -> None:
    """Start the API and web page over CLEARANCE_DATA_DIR (one process owns the index)."""
    _offline_env()
    import uvicorn

    from workers.services import build_services

    from .app import create_app

    settings = Settings()
    try:
        services = build_services(settings)
    except StoreLocked:
        console.print(f"[red]The index under {settings.edge_path} is already held by another "
                      "process[/red] (is a server running?). Stop it, or point "
                      "CLEARANCE_DATA_DIR elsewhere.")
        raise typer.Exit(code=2) from None
    optimize_index(services.store)
    page_in_index(services.store)
    application = create_app(settings, services=services)
    if demo:
        _prepare_demo(application, services, settings, host=host, port=port)
    else:
        console.print(f"Clearance on http://{host}:{port}  (data: {settings.data_dir}, "
                      f"embedder on {services.embedder.device})")
    note = _note_serving(settings, host=host, port=port)
    _unwind_on_sigterm()
    try:
        # loop and http "auto": uvloop and httptools, both pinned dependencies
        uvicorn.run(application, host=host, port=port, workers=1, log_level="warning")
    finally:
        note.unlink(missing_ok=True)
        services.close()


def _unwind_on_sigterm() -> None:
    """After a graceful shutdown uvicorn raises again the signal that asked for it. SIGTERM's
    default action (``docker stop``, systemd, ``kill``) would then end the process before
    ``serve`` closes the stores; exit by SystemExit instead, as Ctrl-C unwinds."""
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))


SERVING_NOTE = "serving.json"
"""In the data dir while ``clearance serve`` runs: where it listens, for ``ingest``'s hint."""


def _note_serving(settings: Settings, *, host: str, port: int) -> Path:
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    note = settings.data_dir / SERVING_NOTE
    note.write_text(json.dumps({"url": f"http://{reachable}:{port}", "pid": os.getpid()}))
    return note


def _serving_url(settings: Settings) -> str:
    """The URL the server holding this data dir noted, else the default one."""
    try:
        return str(json.loads((settings.data_dir / SERVING_NOTE).read_text())["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return "http://127.0.0.1:8000"


def _prepare_demo(application: FastAPI, services: Services, settings: Settings, *,
                  host: str, port: int) -> None:
    from . import demo_loader

    if demo_loader.is_empty(services, "default"):
        console.print("Loading the demo company (first start; about a minute)…")
        loaded = demo_loader.load_company(services)
        console.print(f"Indexed {loaded} demo documents.")
    else:
        console.print("Reusing the demo company already in the data dir.")
    users, admin_key = demo_loader.mint_demo_keys(services, settings)
    application.state.demo_users = users  # the web page's demo sign-in (api/web.py)
    base = f"http://{host}:{port}"
    table = Table(title=f"Clearance demo on {base}  (embedder on {services.embedder.device})")
    table.add_column("demo user")
    table.add_column("title")
    for user in users:
        table.add_row(user.id, user.title)
    out = Console()
    out.print(table)
    # Keys and commands are printed whole (soft_wrap): a wrapped key cannot be pasted.
    width = max(len(user.id) for user in users)
    out.print("Query keys, one per demo user:\n" + "\n".join(
        f"  {user.id:<{width}}  {user.key}" for user in users),
        soft_wrap=True, highlight=False, markup=False)
    first = users[0]
    admins = ", ".join(u.name or u.id for u in users if u.admin_key) or "nobody"
    out.print(f"""
Open {base}/ and pick a demo user (admin pages at {base}/admin: sign in as {admins}),
or from a shell:

  curl -s {base}/v1/answer -H 'Authorization: Bearer {first.key}' \\
       -H 'Content-Type: application/json' -d '{{"query": "How many vacation days do I get?"}}'

  curl -s {base}/v1/search -H 'Authorization: Bearer {first.key}' \\
       -H 'Content-Type: application/json' -d '{{"query": "expense policy", "top_k": 3}}'

Admin key (demo only): {admin_key}
  curl -s {base}/v1/answer -H 'Authorization: Bearer {admin_key}' \\
       -H 'X-On-Behalf-Of: {users[-1].id.removeprefix("user:")}' \\
       -H 'Content-Type: application/json' -d '{{"query": "What is the travel policy?"}}'
""", highlight=False, markup=False, soft_wrap=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
