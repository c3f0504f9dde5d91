"""The Celery command line's entry point: ``celery -A workers.celery_main worker``.

Importing this module builds nothing; the CLI's lookup of ``app`` builds the worker from
the environment (``CLEARANCE_*``) on first access.
"""

from __future__ import annotations

from typing import Any

_app: Any = None


def __getattr__(name: str) -> Any:
    global _app
    if name not in {"app", "celery"}:
        raise AttributeError(name)
    if _app is None:
        from core import Settings

        from .tasks import create_worker

        _app = create_worker(Settings())
    return _app
