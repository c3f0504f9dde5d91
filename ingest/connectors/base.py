"""The ``Connector`` seam: a source's documents, each with the access rules it came with.

A connector yields a ``RawDocument`` for each item it could read and a ``ConnectorFailure``
for each item it could not even read (too large, unknown type, broken ACL file...), so one
bad file is recorded against its own id and never stops the sync. A problem with the
source as a whole (its root is missing) raises instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from core.errors import ClearanceError
from core.types import RawDocument


@dataclass(frozen=True)
class ConnectorFailure:
    """An item that could not be read; ``code`` is a stable code from ``core.errors``."""

    external_id: str
    code: str
    message: str

    @classmethod
    def of(cls, external_id: str, error: ClearanceError) -> ConnectorFailure:
        return cls(external_id=external_id, code=error.code, message=error.message)


class Connector(Protocol):
    def documents(self) -> Iterator[RawDocument | ConnectorFailure]:
        """Every item of the source, in a stable order."""
        ...
