"""workers: the Celery app and tasks (``create_worker``), source sync, the document path."""

from .grace import CLOSED_CODE, PermissionHealth, permission_health
from .reconcile import reconcile_source
from .sync import SyncReport, sync_permissions, sync_source
from .tasks import TASK_NAMES, create_worker

__all__ = ["CLOSED_CODE", "TASK_NAMES", "PermissionHealth", "SyncReport", "create_worker",
           "permission_health", "reconcile_source", "sync_permissions", "sync_source"]
