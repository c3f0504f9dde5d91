"""The demo company served over real HTTP for browser tests: uvicorn in a thread on a
free loopback port, real stores (SQLite + Qdrant Edge) in a temp dir, the hashing
embedder (the page, not ranking, is under test; tests/e2e covers the real model).

``python -m tests.ui.server`` serves it by hand on http://127.0.0.1:8765/.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from api import demo_loader
from api.app import create_app
from tests.helpers import free_port, hashing_services, settings_for

ADMIN_KEY = "ck_ui_suite_bootstrap_admin_key"


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    users: dict[str, demo_loader.DemoUser]
    """Demo users by id (``user:…``), with their keys."""
    admin_key: str
    """The bootstrap admin key (CLEARANCE_ADMIN_API_KEY) for setup calls from tests."""


@contextmanager
def demo_server(data_dir: Path, *, port: int | None = None) -> Iterator[DemoServer]:
    services = hashing_services(data_dir, admin_api_key=ADMIN_KEY)
    try:
        demo_loader.load_company(services)
        users, _ = demo_loader.mint_demo_keys(services, services.settings)
        app = create_app(settings_for(data_dir, admin_api_key=ADMIN_KEY), services=services)
        app.state.demo_users = users
        port = port or free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, name="ui-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The UI test server did not start.")
            time.sleep(0.05)
        try:
            yield DemoServer(base_url=f"http://127.0.0.1:{port}",
                             users={u.id: u for u in users}, admin_key=ADMIN_KEY)
        finally:
            server.should_exit = True
            thread.join(timeout=15)
    finally:
        services.close()


if __name__ == "__main__":  # pragma: no cover - manual use
    with tempfile.TemporaryDirectory() as tmp, demo_server(Path(tmp), port=8765) as demo:
        print(f"{demo.base_url}/  (bootstrap admin key {demo.admin_key})", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
