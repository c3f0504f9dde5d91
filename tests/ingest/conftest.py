"""Every ingest test runs with the network refused, and fails if anything tried to reach it
(unstructured swallows its own network errors, so the attempts are recorded, not raised)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from ingest.tokens import MiniLMTokenCounter, minilm_token_counter


@pytest.fixture(autouse=True)
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{name}{args[1:2] or args[:1]}")
            raise OSError("network access is disabled in ingest tests")

        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    yield attempts
    assert attempts == [], f"network access attempted: {attempts}"


@pytest.fixture(scope="session")
def minilm() -> MiniLMTokenCounter:
    counter = minilm_token_counter()
    counter.warm_up()
    return counter
