"""A Confluence space synced through the Celery path, and how long a permission change at
the source takes to reach queries.

A fake Confluence Cloud site (``tests/connectors/fake_confluence.py``, the documented v2/v1
payloads, served through an ``httpx`` transport the way the worker tests inject it) holds
one space of ``--pages`` pages: a few paragraphs of storage-format HTML each, under section
pages, about one in seven restricted to a group or to two users, readers the staff group.
Everything else is what production runs: a fresh PostgreSQL database (a unique name,
dropped at the end unless ``--keep-db``), Redis as the broker under a unique key prefix
(``CLEARANCE_BROKER_KEY_PREFIX``), the embedded Qdrant Edge store in a temp data dir handed
to ``create_worker(settings, store=...)``, and a real Celery worker thread in this process
(``start_worker``, solo pool, consuming the app's fetch, embed and permissions queues).
The model and the HTML parser are loaded before anything is timed, as in a worker that
has run before (``startup_s`` says how long that took).

1. Full sync: ``sync_source`` is sent as ``POST /v1/sources/{id}/sync`` sends it (celery
   mode) and timed from the send until its ``sync_runs`` row is finished: documents/s and
   chunks/s over that wall time, and the run's counts.
2. Incremental sync with nothing changed: the same task again (lists ids and versions,
   fetches nothing older than the last high-water mark minus the overlap).
3. A first permission sync (the synced groups and memberships; beat runs one right after
   the first content sync), then one page's read restriction is narrowed at the source
   to a group one reader is not in, and ``sync_permissions`` is sent. The reader's query
   (``Retriever`` with their entitlements from SQL, as ``/v1/search`` asks it) is polled
   until the page is gone: change-to-effect time; the run's own duration comes from its
   row. With the default schedule a change waits at most the permission interval plus one
   beat tick before a permission sync starts, so the worst case is
   ``permissions_interval_s + schedule_tick_s + change-to-effect`` (defaults read from
   ``Settings``).

The fake answers at once; a real site does not, and the connector asks one request at a
time (listing pages, then each page's ancestors, restriction and attachments), so every
phase reports the requests it made: at a round trip of r seconds a phase takes about
``source_requests * r`` longer. ``--source-latency-ms`` delays each answer to measure that.

    python -m bench.celery_sync [--pages 2000] [--embedder minilm-auto|hashing] [--keep-db]
                                [--source-latency-ms 0]

Needs PostgreSQL (``--pg-url``, default ``$CLEARANCE_TEST_PG_URL`` else the local server)
and Redis (``--redis-url``). Prints a table and writes bench/results/celery_sync.json.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench._data import write_result
from tests.connectors.fake_confluence import BASE, T0, FakeConfluence, Page

TENANT = "default"
SPACE_KEY, SPACE_ID = "ENG", "65537"
QUERY = "Kestrel offsite plan Lisbon"
POLL_S = 0.05
PG_URL = os.environ.get("CLEARANCE_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = "redis://127.0.0.1:6379/0"

USERS = ("ann", "bob", "chen", "dana", "eli", "fatima", "goran", "hana", "ivan", "jade",
         "kofi", "lena", "mateo", "nora", "omar", "priya", "quinn", "rosa", "sami", "tara",
         "uma", "viktor", "wen", "yusuf")
GROUPS = {  # id -> (name, members); everyone in staff, who reads the space
    "g-staff": ("staff", USERS),
    "g-eng": ("engineering", USERS[2:12]),
    "g-finance": ("finance", ("ann", "dana", "hana", "rosa")),
    "g-people": ("people-ops", ("fatima", "nora", "tara")),
    "g-leads": ("team-leads", ("ann", "chen", "goran", "lena", "omar")),
}
KEEPS, LOSES = "ann", "bob"  # the probe page goes to finance only: ann keeps it, bob loses it
NEW_RESTRICTION = "g-finance"

TOPICS = {
    "Engineering": ("deployment", "service", "pipeline", "release", "incident", "database",
                    "cache", "queue", "runbook", "rollback", "latency", "dashboard", "alert",
                    "schema", "migration", "certificate", "cluster"),
    "Finance": ("budget", "invoice", "forecast", "expense", "vendor", "payment", "audit",
                "ledger", "quarter", "approval", "reimbursement", "contract", "purchase order"),
    "People": ("onboarding", "benefits", "leave", "performance review", "hiring", "training",
               "policy", "payroll", "mentoring", "feedback", "relocation"),
    "Operations": ("office", "laptop", "badge", "travel", "shipping", "facility",
                   "procurement", "security", "access request", "inventory", "printer"),
}
DOCS = ("runbook", "checklist", "guide", "policy", "FAQ", "how-to", "decision record",
        "meeting notes", "handbook page", "template")
TEMPLATES = (
    "The {a} process covers every {b} and is reviewed by the {team} team each {period}.",
    "Before you change a {a}, read the {b} {doc} and record the decision in {tool}.",
    "Questions about the {a} go to the #{channel} channel; the on-call owner answers within "
    "{n} hours.",
    "In {quarter} we moved the {a} to the new {b} platform, which cut the {c} time by {pct}%.",
    "Every {a} above {amount} EUR needs an approval from a {role} before it is booked.",
    "This {doc} lists {n} steps, from the first {b} to the final {c} sign-off.",
    "If the {a} fails, roll back to the last known good {b} and open an incident in {tool}.",
    "Owners: the {team} team keeps this {doc} current; stale sections are flagged every "
    "{period}.",
    "A {role} may grant an exception for the {a} when the {b} is already approved.",
    "Keep the {c} notes next to the {a} {doc} so the next reader finds them.",
)
PERIODS = ("week", "sprint", "month", "quarter")
TOOLS = ("Jira", "the change log", "the decision register", "ServiceNow", "the team tracker")
ROLES = ("team lead", "director", "finance partner", "security officer", "site manager")


# --- the source -------------------------------------------------------------------------


def _sentence(rng: random.Random, words: Sequence[str], team: str) -> str:
    a, b, c = rng.sample(list(words), 3)
    return rng.choice(TEMPLATES).format(
        a=a, b=b, c=c, team=team.lower(), period=rng.choice(PERIODS), doc=rng.choice(DOCS),
        tool=rng.choice(TOOLS), channel=f"{team.lower()}-{a.split()[0]}", n=rng.randint(2, 12),
        quarter=f"Q{rng.randint(1, 4)} {rng.randint(2022, 2026)}", pct=rng.randint(5, 60),
        amount=rng.choice((500, 1000, 5000, 25000)), role=rng.choice(ROLES))


def page_body(rng: random.Random, topic: str, reference: str) -> str:
    """A few paragraphs of Confluence storage format: headings, lists, a macro, a table."""
    words = TOPICS[topic]

    def paragraph(sentences: int) -> str:
        return " ".join(_sentence(rng, words, topic) for _ in range(sentences))

    parts = [f"<p>{paragraph(rng.randint(3, 5))} Reference: {reference}.</p>",
             "<h2>How it works</h2>", f"<p>{paragraph(rng.randint(3, 5))}</p>",
             "<ul>" + "".join(f"<li>{_sentence(rng, words, topic)}</li>"
                              for _ in range(rng.randint(3, 5))) + "</ul>"]
    if rng.random() < 0.4:
        parts.append('<ac:structured-macro ac:name="info" ac:schema-version="1">'
                     f"<ac:rich-text-body><p>{paragraph(2)}</p></ac:rich-text-body>"
                     "</ac:structured-macro>")
    if rng.random() < 0.3:
        rows = "".join(f"<tr><td>{w}</td><td>{rng.choice(ROLES)}</td>"
                       f"<td>{rng.randint(1, 30)} days</td></tr>"
                       for w in rng.sample(list(words), 3))
        parts.append("<table><tbody><tr><th>Item</th><th>Owner</th><th>Turnaround</th></tr>"
                     f"{rows}</tbody></table>")
    parts += ["<h2>Notes</h2>", f"<p>{paragraph(rng.randint(2, 4))}</p>"]
    return "".join(parts)


@dataclass(frozen=True)
class Space:
    site: FakeConfluence
    probe_id: str
    restricted: int
    sections: int


def build_site(pages: int, *, seed: int = 7) -> Space:
    """One space of ``pages`` pages: section pages, and leaves under them; every ninth leaf
    restricted to a group, every 23rd to two users. The last leaf is the probe page, open
    to all staff until the permission change."""
    if pages < 2:
        raise SystemExit("--pages must be at least 2 (a section and the probe page)")
    site = FakeConfluence()
    for user in USERS:
        site.add_user(f"acc-{user}", f"{user}@acme.com")
    for group_id, (name, members) in GROUPS.items():
        site.add_group(group_id, name, [f"acc-{m}" for m in members])
    site.add_space(SPACE_KEY, SPACE_ID, readers=[("group", "g-staff")])
    rng = random.Random(seed)
    sections = max(1, pages // 50)
    topics = list(TOPICS)
    restricted = 0
    for n in range(1, pages + 1):
        page_id = str(98_000 + n)
        topic = topics[n % len(topics)]
        modified = T0 - timedelta(days=rng.uniform(1, 365))
        if n <= sections:
            title = f"{topic} section {n}: {rng.choice(TOPICS[topic])} {rng.choice(DOCS)}s"
            site.add_page(Page(page_id, SPACE_ID, title, page_body(rng, topic, f"SEC-{n:03d}"),
                               modified=modified))
            continue
        parent = str(98_000 + 1 + n % sections)
        if n == pages:
            body = ("<p>Project Kestrel offsite plan: the leadership offsite in Lisbon, "
                    "venue, agenda and the budget held back for it.</p>"
                    + page_body(rng, "Operations", f"DOC-{n:05d}"))
            site.add_page(Page(page_id, SPACE_ID, "Kestrel offsite plan (Lisbon)", body,
                               parent_id=parent, modified=modified))
            continue
        words = TOPICS[topic]
        title = f"{rng.choice(words).capitalize()} {rng.choice(DOCS)} {n}"
        page = Page(page_id, SPACE_ID, title, page_body(rng, topic, f"DOC-{n:05d}"),
                    parent_id=parent, modified=modified)
        if n % 9 == 0:
            page.read_groups = [rng.choice(("g-finance", "g-people", "g-leads", "g-eng"))]
            restricted += 1
        elif n % 23 == 0:
            page.read_users = [f"acc-{u}" for u in rng.sample(USERS, 2)]
            restricted += 1
        site.add_page(page)
    return Space(site, probe_id=str(98_000 + pages), restricted=restricted, sections=sections)


@contextmanager
def confluence_served_by(site: FakeConfluence, *, latency_s: float = 0.0) -> Iterator[None]:
    """Confluence sources reach ``site`` (the worker builds its connectors by kind), each
    request answered ``latency_s`` late."""
    import httpx

    from ingest import register_connector
    from ingest.connectors import ConfluenceConnector

    def handle(request: httpx.Request) -> httpx.Response:
        if latency_s > 0:
            time.sleep(latency_s)
        return site.handle(request)

    transport = httpx.MockTransport(handle)
    register_connector("confluence", lambda config, *, max_bytes: (
        ConfluenceConnector.from_config(config, max_bytes=max_bytes, transport=transport)))
    try:
        yield
    finally:
        register_connector("confluence", ConfluenceConnector.from_config)


# --- services ---------------------------------------------------------------------------


@contextmanager
def fresh_database(admin_url: str, *, keep: bool, say: Callable[[str], None]) -> Iterator[str]:
    from sqlalchemy import create_engine, text

    name = f"clearance_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        raise SystemExit(f"PostgreSQL at {admin_url} refused a new database ({exc}); "
                         "pass --pg-url or run `make services`.") from exc
    url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    try:
        yield url
    finally:
        if keep:
            say(f"kept database {url}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def redis_prefix(url: str) -> Iterator[str]:
    import redis

    prefix = f"clearance-bench-{uuid.uuid4().hex[:10]}:"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis at {url} is not reachable ({exc}); pass --redis-url.") from exc
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def _default_cache_dir() -> Path:
    """Where the ONNX embedder's exported model is kept between runs (as bench.beir)."""
    configured = os.environ.get("CLEARANCE_BENCH_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clearance-bench"


# --- measuring --------------------------------------------------------------------------


def _wait(predicate: Callable[[], Any], *, timeout_s: float, what: str,
          interval_s: float = POLL_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


def _finished_runs(services: Any, source_id: str, kind: str) -> list[Any]:
    from sqlalchemy import select

    from core.models import SyncRun

    with services.sessions() as session:
        runs = list(session.scalars(select(SyncRun).where(
            SyncRun.source_id == source_id, SyncRun.kind == kind,
            SyncRun.finished_at.is_not(None)).order_by(SyncRun.started_at)))
        session.expunge_all()
        return runs


def _run_facts(run: Any) -> dict[str, Any]:
    return {"run_id": run.id, "status": run.status, "error_code": run.error_code,
            "run_s": round((run.finished_at - run.started_at).total_seconds(), 3),
            **{k: getattr(run, k) for k in ("seen", "new", "changed", "unchanged", "deleted",
                                            "failed")}}


def send_and_wait(app: Any, services: Any, *, task: str, source_id: str, kind: str,
                  timeout_s: float, site: FakeConfluence) -> tuple[float, dict[str, Any]]:
    """Send ``task`` for the source; wall seconds until its run row is finished, and the
    run's facts (with the requests it made of the source). A run that does not succeed
    stops the benchmark."""
    from workers import TASK_NAMES

    before = len(_finished_runs(services, source_id, kind))
    requests = _requests(site)
    started = time.perf_counter()
    app.send_task(TASK_NAMES[task], args=[source_id])
    runs = _wait(lambda: _finished_runs(services, source_id, kind)[before:],
                 timeout_s=timeout_s, what=f"the {kind} run")
    wall_s = time.perf_counter() - started
    facts = {**_run_facts(runs[0]), "source_requests": _requests(site) - requests}
    if facts["status"] != "succeeded":
        raise SystemExit(f"the {kind} run ended {facts['status']}: {facts['error_code']}")
    return wall_s, facts


def _requests(site: FakeConfluence) -> int:
    return sum(site.hits.values())


def _index_facts(services: Any, source_id: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from core.models import Document

    with services.sessions() as session:
        by_status = dict(session.execute(select(Document.status, func.count()).where(
            Document.source_id == source_id).group_by(Document.status)).all())
        sql_chunks = session.scalar(select(func.coalesce(func.sum(Document.chunk_count), 0))
                                    .where(Document.source_id == source_id))
    return {"documents_by_status": {str(k): int(v) for k, v in by_status.items()},
            "chunks": services.store.count(tenant=TENANT), "sql_chunks": int(sql_chunks or 0)}


class Reader:
    """One user's queries, as ``/v1/search`` asks them: entitlements resolved from SQL
    (every synced group), the hybrid search, the SQL re-check of every hit."""

    def __init__(self, services: Any, email: str) -> None:
        from retrieval import Retriever

        self.services, self.email = services, email
        self.retriever = Retriever(store=services.store, embedder=services.embedder,
                                   sessions=services.sessions)
        self.latencies_ms: list[float] = []

    def sees(self, external_id: str, query: str = QUERY) -> bool:
        from acl.entitlements import entitlements_for

        started = time.perf_counter()
        with self.services.sessions() as session:
            entitlements = entitlements_for(session, tenant=TENANT, user_id=self.email)
        hits = self.retriever.search(query, entitlements=entitlements, top_k=10).hits
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        return any(h.external_id == external_id for h in hits)


def _warm_parser(site: FakeConfluence, *, max_bytes: int) -> None:
    """Parse one page here first: the HTML parser's imports (≈1.5 s, once per process) are
    paid by a long-running worker's first sync only, not by every sync of 2,000 pages."""
    from core import Acl, RawDocument
    from ingest import parse_document

    page = next(iter(site.pages.values()))
    parse_document(RawDocument(external_id="warm-up", title=page.title,
                               content=f"<html><body>{page.body}</body></html>".encode(),
                               mime_type="text/html", acl=Acl.of([], [])), max_bytes=max_bytes)


def _default(name: str) -> float:
    from core import Settings

    return float(Settings.model_fields[name].default)


# --- the run ----------------------------------------------------------------------------


def run(args: argparse.Namespace, say: Callable[[str], None] = print) -> dict[str, Any]:
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DO_NOT_TRACK"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from celery.contrib.testing.worker import start_worker

    from core import Settings
    from index.embed import create_embedder
    from index.store import create_store
    from workers import create_worker
    from workers.sources import get_or_create_source
    from workers.tasks import EMBED, FETCH, PERMISSIONS

    space = build_site(args.pages)
    site = space.site
    say(f"fake Confluence: {args.pages:,} pages ({space.sections} sections, "
        f"{space.restricted} restricted), {len(GROUPS)} groups, {len(USERS)} users")
    cache_dir = (args.cache_dir or _default_cache_dir()).resolve()
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp, \
            fresh_database(args.pg_url, keep=args.keep_db, say=say) as db_url, \
            redis_prefix(args.redis_url) as prefix, \
            confluence_served_by(site, latency_s=args.source_latency_ms / 1000):
        settings = Settings(data_dir=Path(tmp) / "data", database_url=db_url,
                            broker_url=args.redis_url, broker_key_prefix=prefix,
                            embedder=args.embedder, embed_cache_dir=cache_dir / "models",
                            task_queue="celery")
        settings.data_dir.mkdir(parents=True)
        started = time.perf_counter()
        embedder = create_embedder(settings)
        store = create_store(settings, dimensions=embedder.dimensions)  # Edge, under data_dir
        store.warm_up()
        app = create_worker(settings, store=store, embedder=embedder)
        runtime = app.clearance_runtime
        try:
            with start_worker(app, pool="solo", perform_ping_check=False,
                              shutdown_timeout=60.0, queues=[FETCH, EMBED, PERMISSIONS]):
                services = runtime.services  # built in the worker at start (model loaded)
                _warm_parser(site, max_bytes=settings.max_upload_bytes)
                startup_s = time.perf_counter() - started
                say(f"worker up in {startup_s:.1f} s ({type(store).__name__}, "
                    f"{getattr(services.embedder, 'kind', args.embedder)} embedder)")
                with services.sessions() as session, session.begin():
                    source_id = get_or_create_source(
                        session, tenant=TENANT, name="wiki", kind="confluence", config={
                            "base_url": BASE, "spaces": [SPACE_KEY],
                            "email": "bot@acme.com", "api_token": "bench"}).id
                result = _measure(app, services, space, source_id, args, say)
        finally:
            runtime.close()
            store.close()
    result.update({
        "pages": args.pages, "sections": space.sections, "restricted_pages": space.restricted,
        "groups": len(GROUPS), "users": len(USERS), "embedder": args.embedder,
        "embedder_kind": getattr(embedder, "kind", args.embedder),
        "store": type(store).__name__, "worker_pool": "solo",
        "queues": [FETCH, EMBED, PERMISSIONS], "startup_s": round(startup_s, 2),
        "cpu_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "source": {"kind": "fake Confluence Cloud, in-process httpx transport",
                   "latency_ms": args.source_latency_ms},
        "database": db_url.rsplit("/", 1)[-1], "database_kept": args.keep_db,
        "measured_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    })
    write_result("celery_sync", result, args.out)
    return result


def _measure(app: Any, services: Any, space: Space, source_id: str, args: argparse.Namespace,
             say: Callable[[str], None]) -> dict[str, Any]:
    timeout = args.timeout_s
    wall_s, full = send_and_wait(app, services, task="sync_source", source_id=source_id,
                                 kind="content", timeout_s=timeout,
                                 site=space.site)
    index = _index_facts(services, source_id)
    documents = full["new"] + full["changed"] + full["unchanged"]
    say(f"full sync: {documents:,} documents, {index['chunks']:,} chunks in {wall_s:.1f} s "
        f"({documents / wall_s:.1f} documents/s)")
    full_sync = {**full, "wall_s": round(wall_s, 3), "documents": documents,
                 "documents_per_s": round(documents / wall_s, 2),
                 "chunks_per_s": round(index["chunks"] / wall_s, 2), **index}

    inc_wall_s, inc = send_and_wait(app, services, task="sync_source", source_id=source_id,
                                    kind="content", timeout_s=timeout,
                                 site=space.site)
    say(f"incremental sync, nothing changed: {inc_wall_s:.2f} s "
        f"({inc['unchanged']:,} unchanged, {inc['new'] + inc['changed']} re-ingested)")

    first_wall_s, first = send_and_wait(app, services, task="sync_permissions",
                                        source_id=source_id, kind="permissions",
                                        timeout_s=timeout, site=space.site)
    say(f"first permission sync (groups, memberships): {first_wall_s:.2f} s")
    probe = f"page:{space.probe_id}"
    keeps, loses = Reader(services, f"{KEEPS}@acme.com"), Reader(services, f"{LOSES}@acme.com")
    if not (keeps.sees(probe) and loses.sees(probe)):
        raise SystemExit(f"before the change both readers must find {probe} for {QUERY!r}")

    from workers import TASK_NAMES

    before = len(_finished_runs(services, source_id, "permissions"))
    requests = _requests(space.site)
    space.site.pages[space.probe_id].read_groups = [NEW_RESTRICTION]  # at the source, now
    changed_at = time.perf_counter()
    app.send_task(TASK_NAMES["sync_permissions"], args=[source_id])
    _wait(lambda: not loses.sees(probe), timeout_s=timeout,
          what=f"{LOSES} to lose {probe}")
    effect_s = time.perf_counter() - changed_at
    runs = _wait(lambda: _finished_runs(services, source_id, "permissions")[before:],
                 timeout_s=timeout, what="the permission run")
    run_wall_s = time.perf_counter() - changed_at
    change = {**_run_facts(runs[0]), "source_requests": _requests(space.site) - requests}
    if change["status"] != "succeeded":
        raise SystemExit(f"the permission run ended {change['status']}: {change['error_code']}")
    if not keeps.sees(probe):
        raise SystemExit(f"{KEEPS} (in {NEW_RESTRICTION}) lost {probe} as well")
    interval_s, tick_s = _default("permissions_interval_s"), _default("schedule_tick_s")
    worst_s = interval_s + tick_s + effect_s
    say(f"permission change: in queries {effect_s:.2f} s after the change "
        f"(permission run {change['run_s']:.2f} s); worst case with the default schedule "
        f"{interval_s:.0f} + {tick_s:.0f} + {effect_s:.2f} = {worst_s:.1f} s")
    queries = loses.latencies_ms + keeps.latencies_ms
    return {
        "full_sync": full_sync,
        "incremental_sync": {**inc, "wall_s": round(inc_wall_s, 3)},
        "first_permission_sync": {**first, "wall_s": round(first_wall_s, 3)},
        "permission_change": {
            "page": probe, "restricted_to": NEW_RESTRICTION, "reader_losing": LOSES,
            "reader_keeping": KEEPS, "change_to_effect_s": round(effect_s, 3),
            "change_to_run_finished_s": round(run_wall_s, 3), "run": change,
            "queries_polled": len(loses.latencies_ms),
            "query_p50_ms": round(statistics.median(queries), 1)},
        "schedule": {"permissions_interval_s": interval_s, "schedule_tick_s": tick_s,
                     "worst_case_delay_s": round(worst_s, 1),
                     "formula": "permissions_interval_s + schedule_tick_s + "
                                "change_to_effect_s (Settings defaults)"},
    }


def print_table(result: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    full, inc = result["full_sync"], result["incremental_sync"]
    change, schedule = result["permission_change"], result["schedule"]
    table = Table(title=f"Confluence space of {result['pages']:,} pages through Celery "
                        f"({result['embedder_kind']}, {result['store']}, "
                        f"{result['cpu_cores']} cores, source latency "
                        f"{result['source']['latency_ms']:g} ms)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    counts = ("seen", "new", "changed", "unchanged", "deleted", "failed")
    rows = [
        ("full sync: documents / chunks", f"{full['documents']:,} / {full['chunks']:,}"),
        ("full sync: wall s (run s)", f"{full['wall_s']:.1f} ({full['run_s']:.1f})"),
        ("full sync: requests to the source", f"{full['source_requests']:,}"),
        ("full sync: documents/s", f"{full['documents_per_s']:.1f}"),
        ("full sync: chunks/s", f"{full['chunks_per_s']:.1f}"),
        ("full sync: " + "/".join(counts), "/".join(str(full[k]) for k in counts)),
        ("incremental sync, nothing changed: wall s", f"{inc['wall_s']:.2f}"),
        ("incremental sync: " + "/".join(counts), "/".join(str(inc[k]) for k in counts)),
        ("first permission sync: wall s", f"{result['first_permission_sync']['wall_s']:.2f}"),
        ("permission change -> gone from queries, s", f"{change['change_to_effect_s']:.2f}"),
        ("permission sync run, s", f"{change['run']['run_s']:.2f}"),
        ("permission sync: requests to the source", f"{change['run']['source_requests']:,}"),
        (f"worst case, default schedule ({schedule['permissions_interval_s']:.0f} s interval "
         f"+ {schedule['schedule_tick_s']:.0f} s tick + measured), s",
         f"{schedule['worst_case_delay_s']:.1f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.celery_sync",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--embedder", default="minilm-auto",
                        help="CLEARANCE_EMBEDDER kind (default minilm-auto; 'hashing' for a "
                             "fast smoke run)")
    parser.add_argument("--keep-db", action="store_true",
                        help="leave the benchmark's PostgreSQL database in place")
    parser.add_argument("--pg-url", default=PG_URL,
                        help="an admin URL of the PostgreSQL server (a database is created "
                             "beside it)")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the ONNX model export is kept ($CLEARANCE_BENCH_CACHE, "
                             "else ~/.cache/clearance-bench)")
    parser.add_argument("--source-latency-ms", type=float, default=0.0,
                        help="answer every request of the fake Confluence this late (a real "
                             "site's round trip; the connector asks one at a time)")
    parser.add_argument("--timeout-s", type=float, default=3600.0,
                        help="give up on a run after this long")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the JSON here instead of bench/results/celery_sync.json")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    result = run(args)
    print_table(result)


if __name__ == "__main__":
    main()
