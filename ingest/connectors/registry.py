"""Connectors by kind (``Source.kind``): a factory builds one from the source's config.

Built-ins register here through ``register_connector``, the call a new source kind uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from core.errors import InputError

from .changes import SourceConnector


class ConnectorFactory(Protocol):
    def __call__(self, config: Mapping[str, Any], *, max_bytes: int) -> SourceConnector: ...


_FACTORIES: dict[str, ConnectorFactory] = {}


def register_connector(kind: str, factory: ConnectorFactory) -> None:
    _FACTORIES[kind] = factory


def create_connector(kind: str, config: Mapping[str, Any], *,
                     max_bytes: int) -> SourceConnector:
    """The connector for a source of ``kind``; ``max_bytes`` caps every document it yields."""
    try:
        factory = _FACTORIES[kind]
    except KeyError:
        raise InputError(
            f"unknown source kind {kind!r}; known: {', '.join(sorted(_FACTORIES))}"
        ) from None
    return factory(config, max_bytes=max_bytes)


def connector_kinds() -> frozenset[str]:
    return frozenset(_FACTORIES)


def _register_builtins() -> None:
    from .confluence import ConfluenceConnector
    from .filesystem import FilesystemConnector
    from .push import PushConnector
    from .sharepoint import SharePointConnector

    register_connector("filesystem", FilesystemConnector.from_config)
    register_connector("push", PushConnector.from_config)
    register_connector("confluence", ConfluenceConnector.from_config)
    register_connector("sharepoint", SharePointConnector.from_config)


_register_builtins()
