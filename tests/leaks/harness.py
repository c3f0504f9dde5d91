"""Runs random ``World``s through the HTTP API and checks every answer against the oracle.

Every world lives in a tenant of its own inside one app, so each check also proves that
nothing of the earlier worlds (other tenants, with the same user names) gets through.
Every document text carries unique tokens (``zq`` + 6 characters: a code, two words, a
title word; its external id one more), so a leak is any token in a response that does
not belong to the current version of a document the caller may read, whatever path it
took: a hit, its title or snippet, an answer, a citation or its quote, an error message.

One *check* is one response checked: a search (its hits must be exactly what the caller
may see, so counts cannot leak either), an answer, the caller's own history (only their
own questions), or a refused filter naming another tenant's source.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from core import Acl, document_id
from index.embed import HashingEmbedder
from tests.contracts.store_kit import fast_dir
from tests.helpers import settings_for
from workers.repair import retry_pending
from workers.services import Services, build_services

from .flaky import FlakyStore
from .world import (
    COMMON,
    USERS,
    BadAcl,
    Delete,
    DeleteGroup,
    DocState,
    Mutation,
    Oracle,
    PutGroup,
    Query,
    Reingest,
    Repair,
    SetAcl,
    World,
)

ADMIN_KEY = "ck_leak_suite_bootstrap_admin"
TOKEN = re.compile(r"zq[0-9a-z]{6}")


class LeakFound(AssertionError):
    """Something of a document the caller may not read reached them."""


class WrongState(AssertionError):
    """Not a leak, but the API disagreed with the oracle (a grant not in force, a refused
    change that should have passed...)."""


@dataclass
class LeakHarness:
    client: TestClient
    services: Services
    store: FlakyStore
    strict: bool = True
    checks: Counter[str] = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    worlds: int = 0
    owner: dict[str, tuple[str, int, int | None]] = field(default_factory=dict)
    """token → (tenant, document index, version; None for the external id's token)."""
    sources: list[str] = field(default_factory=list)
    salt: str = field(default_factory=lambda: uuid.uuid4().hex)
    _serial: Iterator[int] = field(default_factory=itertools.count)

    @property
    def query_checks(self) -> int:
        return sum(self.checks.values())

    def run(self, world: World) -> None:
        self.worlds += 1
        _WorldRun(self, world).run()

    def token(self, owner: tuple[str, int, int | None]) -> str:
        while True:
            digest = hashlib.blake2b(f"{self.salt}:{next(self._serial)}".encode(),
                                     digest_size=8).digest()
            token = "zq" + _base36(int.from_bytes(digest, "big"))[:6]
            if token not in self.owner:
                self.owner[token] = owner
                return token

    def leak(self, message: str) -> None:
        self.leaks.append(message)
        if self.strict:
            raise LeakFound(message)

    def mismatch(self, message: str) -> None:
        self.wrong.append(message)
        if self.strict:
            raise WrongState(message)

    def call(self, method: str, path: str, *, key: str, as_user: str | None = None,
             **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}"}
        if as_user:
            headers["X-On-Behalf-Of"] = as_user
        return self.client.request(method, path, headers=headers, **kwargs)


@contextmanager
def leak_harness(kind: str, tmp_dir: Path, *, strict: bool = True) -> Iterator[LeakHarness]:
    """One app on real stores (``edge``, or the server code path on ``:memory:``)."""
    with fast_dir(tmp_dir) as where:
        overrides: dict[str, Any] = {"qdrant_url": ":memory:"} if kind == "server" else {}
        # Repairs run when a step says so, never behind the oracle's back.
        settings = settings_for(where, admin_api_key=ADMIN_KEY, repair_interval_s=86_400,
                                **overrides)
        services = build_services(settings, embedder=HashingEmbedder())
        store = FlakyStore(services.store)
        services.store = store
        try:
            with TestClient(create_app(settings, services=services)) as client:
                yield LeakHarness(client, services, store, strict=strict)
        finally:
            services.close()


class _WorldRun:
    def __init__(self, harness: LeakHarness, world: World) -> None:
        self.h = harness
        self.world = world
        self.tenant = f"leak-{harness.worlds}-{harness.salt[:8]}"
        self.oracle = Oracle()
        self.user_keys: dict[str, str] = {}
        self.asked: dict[str, list[str]] = {u: [] for u in USERS}
        self.admin = self._key({"name": "admin", "scopes": ["admin"]})
        self.source = _must(self.h.call("POST", "/v1/sources", key=self.admin,
                                        json={"name": "wiki", "kind": "push"}), 201)["id"]
        self.external = [f"n{i}-{harness.token((self.tenant, i, None))}"
                         for i in range(len(world.docs))]
        self.doc_ids = {document_id(self.source, e): i for i, e in enumerate(self.external)}
        self.words: dict[tuple[int, int], tuple[str, str, str, str]] = {}

    # -- the run --------------------------------------------------------------------------

    def run(self) -> None:
        for put in self.world.groups:
            self._put_group(put)
        for i, (allow, deny) in enumerate(self.world.docs):
            acl = Acl.of(list(allow), list(deny))
            self.oracle.docs.append(DocState(key=self.external[i], sql=acl, payload=acl))
            self._push(i, allow, deny)
        for step in self.world.steps:
            if isinstance(step, Query) and step.kind == "foreign_filter":
                self._check_foreign_filter(step.user)
            elif isinstance(step, Query):
                self._check(step.user, self._query(step.kind, step.target), step.kind)
            else:
                self._apply(step.mutation)
                self._check(step.check, self._all_codes(), "after")
        for user in USERS:
            self._check(user, self._all_codes(), "final")
        self.h.sources.append(self.source)

    def _apply(self, mutation: Mutation) -> None:
        o, h = self.oracle, self.h
        if isinstance(mutation, PutGroup):
            self._put_group(mutation)
        elif isinstance(mutation, DeleteGroup):
            got = h.call("DELETE", f"/v1/groups/{mutation.group.removeprefix('group:')}",
                         key=self.admin)
            self._status(got, o.delete_group(mutation.group), mutation)
        elif isinstance(mutation, SetAcl):
            h.store.down = mutation.store_down
            try:
                got = h.call("PUT", self._doc_path(mutation.doc) + "/acl", key=self.admin,
                             json={"allow": list(mutation.allow), "deny": list(mutation.deny)})
            finally:
                h.store.down = False
            acl = Acl.of(list(mutation.allow), list(mutation.deny))
            self._status(got, o.set_acl(mutation.doc, acl, store_down=mutation.store_down),
                         mutation)
        elif isinstance(mutation, BadAcl):
            got = h.call("PUT", self._doc_path(mutation.doc) + "/acl", key=self.admin,
                         json={"allow": ["everyone", mutation.bad], "deny": []})
            self._status(got, 422, mutation)
        elif isinstance(mutation, Delete):
            h.store.down = mutation.store_down
            try:
                got = h.call("DELETE", self._doc_path(mutation.doc), key=self.admin)
            finally:
                h.store.down = False
            self._status(got, o.delete(mutation.doc), mutation)
        elif isinstance(mutation, Reingest):
            acl = Acl.of(list(mutation.allow), list(mutation.deny))
            o.reingest(mutation.doc, acl, new_text=mutation.new_text)
            self._push(mutation.doc, mutation.allow, mutation.deny)
        elif isinstance(mutation, Repair):
            retry_pending(h.services, tenant=self.tenant)
            o.repair()

    # -- checks ---------------------------------------------------------------------------

    def _check(self, user: str, query: str, kind: str) -> None:
        may, must = self.oracle.may_see(user), self.oracle.must_see(user)
        where = f"{self.tenant} {user} {kind} {query!r}"
        search = self._ok(self.h.call("POST", "/v1/search", key=self._user_key(user),
                                      json={"query": query, "top_k": 100}), 200)
        if search is None:
            return
        self.asked[user].append(query)
        self.h.checks["search"] += 1
        seen = self._docs_of(search["hits"], where)
        if seen - may:
            self.h.leak(f"search returned documents {sorted(seen - may)} to {where}")
        if must - seen:
            self.h.mismatch(f"search missed readable documents {sorted(must - seen)} "
                            f"for {where}")
        self._tokens(search, may, f"search for {where}")

        answer = self._ok(self.h.call("POST", "/v1/answer", key=self.admin,
                                      as_user=f"{user}@x.com", json={"query": query}), 200)
        if answer is None:
            return
        self.asked[user].append(query)
        self.h.checks["answer"] += 1
        cited = self._docs_of(answer["citations"], where)
        if cited - may:
            self.h.leak(f"answer cited documents {sorted(cited - may)} to {where}")
        self._tokens(answer, may, f"answer for {where}")

        history = self._ok(self.h.call("GET", "/v1/me/history", key=self._user_key(user),
                                       params={"limit": 200}), 200)
        if history is None:
            return
        self.h.checks["history"] += 1
        got = [item["query"] for item in history["items"]]
        if got != list(reversed(self.asked[user]))[:200]:
            self.h.leak(f"history of {user} in {self.tenant} is not exactly their own "
                        f"questions: {got[:3]}…")

    def _check_foreign_filter(self, user: str) -> None:
        foreign = self.h.sources[-1] if self.h.sources else "f" * 32
        messages = []
        for source_id in (foreign, "0" * 32):
            got = self.h.call("POST", "/v1/search", key=self._user_key(user),
                              json={"query": self._all_codes(),
                                    "filters": {"source_ids": [source_id]}})
            body = self._ok(got, 422)
            if body is None:
                return
            if body["error"]["code"] != "unknown_source":
                self.h.mismatch(f"a foreign source id gave {body} in {self.tenant}")
            self._tokens(body, set(), f"error for a foreign source in {self.tenant}")
            messages.append(body["error"]["message"].replace(source_id, "<id>"))
        self.h.checks["error"] += 1
        if messages[0] != messages[1]:
            self.h.leak(f"another tenant's source id is told apart from a missing one: "
                        f"{messages}")

    def _docs_of(self, items: list[dict[str, Any]], where: str) -> set[int]:
        found = set()
        for item in items:
            index = self.doc_ids.get(item["doc_id"])
            if index is None:
                self.h.leak(f"a document of another tenant ({item['doc_id']}) reached {where}")
                continue
            found.add(index)
        return found

    def _tokens(self, payload: object, may: set[int], where: str) -> None:
        allowed: set[str] = set()
        for i in may:
            allowed.add(self.external[i].split("-", 1)[1])
            allowed.update(self.words[(i, self.oracle.docs[i].version)])
        text = json.dumps(payload).lower()
        for token in set(TOKEN.findall(text)) - allowed:
            owner = self.h.owner.get(token)
            self.h.leak(f"{token} (of {owner}) reached the {where}")

    # -- helpers --------------------------------------------------------------------------

    def _push(self, i: int, allow: tuple[str, ...], deny: tuple[str, ...]) -> None:
        version = self.oracle.docs[i].version
        if (i, version) not in self.words:
            self.words[(i, version)] = tuple(  # type: ignore[assignment]
                self.h.token((self.tenant, i, version)) for _ in range(4))
        code, w1, w2, title = self.words[(i, version)]
        text = (f"Note {title}. Record {code.upper()} covers {w1} and {w2}. "
                f"{COMMON[i % len(COMMON)]}")
        got = self.h.call("PUT", self._doc_path(i), key=self.admin, params={"wait": "true"},
                          json={"title": f"Note {title}", "text": text,
                                "acl": {"allow": list(allow), "deny": list(deny)}})
        _must(got, 200)

    def _put_group(self, put: PutGroup) -> None:
        got = self.h.call("PUT", f"/v1/groups/{put.group.removeprefix('group:')}",
                          key=self.admin, json={"members": list(put.members)})
        self._status(got, self.oracle.put_group(put.group, put.members), put)

    def _query(self, kind: str, target: int) -> str:
        code, w1, w2, title = self.words[(target, self.oracle.docs[target].version)]
        other = self.words[((target + 1) % len(self.world.docs),
                            self.oracle.docs[(target + 1) % len(self.world.docs)].version)]
        return {
            "code": code.upper(),
            "words": f"{w1} {w2}",
            "title": f"Note {title}",
            "question": f"What does record {code.upper()} say about {w1}?",
            "mixed": f"{code} {other[1]} {COMMON[0]}",
            "common": COMMON[target % len(COMMON)],
        }[kind]

    def _all_codes(self) -> str:
        return " ".join(self.words[(i, d.version)][0].upper()
                        for i, d in enumerate(self.oracle.docs))

    def _doc_path(self, i: int) -> str:
        return f"/v1/sources/{self.source}/documents/{self.external[i]}"

    def _key(self, body: dict[str, Any]) -> str:
        got = self.h.call("POST", "/v1/keys", key=ADMIN_KEY, json={**body, "tenant": self.tenant})
        return str(_must(got, 201)["key"])

    def _user_key(self, user: str) -> str:
        if user not in self.user_keys:
            self.user_keys[user] = self._key({"name": user, "scopes": ["query"],
                                              "user_id": f"{user}@x.com"})
        return self.user_keys[user]

    def _ok(self, response: Any, status: int) -> Any:
        """The body, or None (after reporting it) when the status is not ``status``."""
        if response.status_code != status:
            self.h.mismatch(f"expected {status}, got {response.status_code}: "
                            f"{response.text[:300]} ({self.tenant})")
            return None
        return response.json()

    def _status(self, response: Any, expected: int, what: object) -> None:
        if response.status_code != expected:
            self.h.mismatch(f"{what}: expected {expected}, got {response.status_code} "
                            f"{response.text[:200]} ({self.tenant})")


def _must(response: Any, status: int) -> Any:
    """Set-up calls: without them the world cannot run at all."""
    if response.status_code != status:
        raise WrongState(f"expected {status}, got {response.status_code}: {response.text[:300]}")
    return response.json()


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out += digits[r]
    return out.ljust(6, "0")
