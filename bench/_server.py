"""Start ``clearance serve`` in a child process for a bench that asks over loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping

import httpx

ADMIN_KEY = "bench-admin-key"


def start_server(port: int, settings: Mapping[str, str], *,
                 wait_s: float = 300) -> subprocess.Popen[bytes]:
    """``clearance serve --port port`` with ``settings`` (``CLEARANCE_*``) in its
    environment, the bench's admin key and no network, once ``/v1/ready`` says 200; exits
    with the server's last words when it dies or is not ready within ``wait_s``."""
    env = {**os.environ, **settings, "CLEARANCE_ADMIN_API_KEY": ADMIN_KEY,
           "HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1"}
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ready").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    _, stderr = server.communicate()
    raise SystemExit("the server did not become ready: " + stderr.decode()[-2000:])
