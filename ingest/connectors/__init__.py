"""Connectors: where documents come from, with the access rules they came with."""

from .base import Connector, ConnectorFailure
from .changes import (
    AclChange,
    Change,
    Checkpoint,
    Deleted,
    IncrementalConnector,
    ListingComplete,
    ListingConnector,
    PermissionConnector,
    PermissionSnapshot,
    Seen,
    SourceConnector,
    SourceCredentialsInvalid,
    SourceUnavailable,
    SyncedGroup,
)
from .confluence import ConfluenceConnector
from .filesystem import FilesystemConnector
from .push import PushConnector, push_document
from .sharepoint import SharePointConnector
from .registry import ConnectorFactory, connector_kinds, create_connector, register_connector

__all__ = [
    "AclChange",
    "Change",
    "Checkpoint",
    "Deleted",
    "IncrementalConnector",
    "ListingComplete",
    "ListingConnector",
    "PermissionConnector",
    "PermissionSnapshot",
    "Seen",
    "SharePointConnector",
    "SourceConnector",
    "SourceCredentialsInvalid",
    "SourceUnavailable",
    "SyncedGroup",
    "Connector",
    "ConnectorFactory",
    "ConfluenceConnector",
    "ConnectorFailure",
    "FilesystemConnector",
    "PushConnector",
    "connector_kinds",
    "create_connector",
    "push_document",
    "register_connector",
]
