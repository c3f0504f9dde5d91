"""workers: the Celery app and tasks (``create_worker``), source sync, the document path."""

from .sync import SyncReport, sync_permissions, sync_source
from .tasks import TASK_NAMES, create_worker

__all__ = ["TASK_NAMES", "SyncReport", "create_worker", "sync_permissions", "sync_source"]
