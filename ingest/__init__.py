"""Ingestion: connectors yield raw documents, parsers turn them into elements, and the
chunker cuts elements into chunks that fit the embedding model's window.

Imports only ``core`` and third-party libraries; heavy libraries load on first use.
"""

from .chunk import chunk_elements, document_text, embedding_text, keyword_text
from .connectors import (
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
    SourceCredentialsInvalid,
    SourceUnavailable,
    SyncedGroup,
    Connector,
    ConnectorFactory,
    ConnectorFailure,
    FilesystemConnector,
    PushConnector,
    connector_kinds,
    create_connector,
    push_document,
    register_connector,
)
from .parse import (
    Parser,
    mime_type_for,
    parse_document,
    parser_for,
    register_parser,
    supported_mime_types,
    warm_up_parsers,
)
from .tokens import MiniLMTokenCounter, minilm_token_counter

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
    "SourceCredentialsInvalid",
    "SourceUnavailable",
    "SyncedGroup",
    "Connector",
    "ConnectorFactory",
    "ConnectorFailure",
    "FilesystemConnector",
    "MiniLMTokenCounter",
    "Parser",
    "PushConnector",
    "chunk_elements",
    "connector_kinds",
    "create_connector",
    "document_text",
    "embedding_text",
    "keyword_text",
    "mime_type_for",
    "minilm_token_counter",
    "parse_document",
    "parser_for",
    "push_document",
    "register_connector",
    "register_parser",
    "supported_mime_types",
    "warm_up_parsers",
]
