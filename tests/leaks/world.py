"""Random permission worlds and the oracle that says what each user may see in them.

A ``World`` is drawn by hypothesis: users, nested groups (some draws would close a cycle
and must be refused), documents with random allow/deny lists (unknown principals
included), and a sequence of steps interleaving queries with mutations: membership
changes, group deletes, ACL changes (some while the vector store is down), malformed ACLs,
deletes, re-ingests with a new ACL and perhaps new text, and index repairs.

``Oracle`` is the reference model in plain Python: transitive group membership, deny
beats allow, an empty allow list admits nobody. It also models the index lagging SQL: a
payload write that failed leaves the old ACL in the engine until ``repair`` runs. A user
*may* see what SQL lets them read and *must* see it when the payload agrees too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from hypothesis import strategies as st

from core import EVERYONE, Acl

USERS = ("ann", "bob", "cat", "dan")
GROUPS = tuple(f"group:g{i}" for i in range(4))
GHOSTS = ("user:ghost@x.com", "group:ghost")
"""Well-formed principals nobody holds: accepted in ACLs, matching nobody."""
MALFORMED = ("ann", "user:not-an-email", "group:Bad Name", "grp:x", "user:a@b@c")
QUERY_KINDS = ("code", "words", "title", "question", "mixed", "common", "foreign_filter")
COMMON = (
    "The travel budget policy covers the office lease and quarterly reviews.",
    "Quarterly reviews list travel costs and the budget for the office.",
    "Office lease terms and the travel policy are reviewed every quarter.",
)


def user_id(name: str) -> str:
    return f"user:{name}@x.com"


PRINCIPALS = (*(user_id(u) for u in USERS), *GROUPS, EVERYONE, *GHOSTS)
MEMBERS = (*(user_id(u) for u in USERS), *GROUPS, "group:ghost")


@dataclass(frozen=True)
class Query:
    user: str
    target: int
    kind: str


@dataclass(frozen=True)
class PutGroup:
    group: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class DeleteGroup:
    group: str


@dataclass(frozen=True)
class SetAcl:
    doc: int
    allow: tuple[str, ...]
    deny: tuple[str, ...]
    store_down: bool = False


@dataclass(frozen=True)
class BadAcl:
    doc: int
    bad: str


@dataclass(frozen=True)
class Delete:
    doc: int
    store_down: bool = False


@dataclass(frozen=True)
class Reingest:
    doc: int
    allow: tuple[str, ...]
    deny: tuple[str, ...]
    new_text: bool


@dataclass(frozen=True)
class Repair:
    pass


Mutation = PutGroup | DeleteGroup | SetAcl | BadAcl | Delete | Reingest | Repair
Step = Query | Mutation


@dataclass(frozen=True)
class After:
    """A mutation and the user whose very next query checks it."""

    mutation: Mutation
    check: str


@dataclass(frozen=True)
class World:
    groups: tuple[PutGroup, ...]
    docs: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    """(allow, deny) of each document as first ingested."""
    steps: tuple[Query | After, ...]


STEP_KINDS = ("query", "set_acl", "put_group", "delete", "reingest", "query", "set_acl",
              "repair", "put_group", "delete_group", "query", "reingest", "bad_acl", "delete",
              "set_acl", "query")
"""Kinds of step by weight (a query in about a quarter, each mutation somewhere between
one and three in sixteen); ``query`` first and last, where hypothesis leans."""


def worlds(*, max_docs: int = 5, min_steps: int = 1, max_steps: int = 10,
           ) -> st.SearchStrategy[World]:
    """Worlds of 2..``max_docs`` documents and 1..``max_steps`` steps, every kind of
    mutation showing up in a short run."""
    return st.integers(2, max_docs).flatmap(
        lambda n: _world(n, min_steps=min_steps, max_steps=max_steps))


def _world(n_docs: int, *, min_steps: int, max_steps: int) -> st.SearchStrategy[World]:
    return st.builds(
        World,
        st.tuples(_nested(), st.lists(_put_group(), max_size=3)).map(
            lambda parts: (*parts[0], *parts[1])),
        st.lists(_acl(), min_size=n_docs, max_size=n_docs).map(tuple),
        st.lists(_step(n_docs), min_size=min_steps, max_size=max_steps).map(tuple),
    )


def _acl() -> st.SearchStrategy[tuple[tuple[str, ...], tuple[str, ...]]]:
    """A non-empty allow list (an empty one is tested on its own: it admits nobody) and a
    deny list of up to two entries; ghosts and ``everyone`` included."""
    pick = st.sampled_from(PRINCIPALS)
    return st.tuples(st.lists(pick, min_size=1, max_size=3, unique=True).map(tuple),
                     st.lists(pick, max_size=2, unique=True).map(tuple))


@st.composite
def _nested(draw: st.DrawFn) -> tuple[PutGroup, ...]:
    """Groups nested up to four deep: each group of a random order holds the one before it
    (or not) and a user or two, so deep chains are common, not a lucky draw."""
    order = draw(st.permutations(GROUPS))
    puts: list[PutGroup] = []
    for i, group in enumerate(order):
        users = draw(st.lists(st.sampled_from([user_id(u) for u in USERS]), max_size=2,
                              unique=True))
        inner = [order[i - 1]] if i and draw(st.integers(0, 3)) else []
        puts.append(PutGroup(group, tuple(inner + users)))
    return tuple(puts)


def _put_group() -> st.SearchStrategy[PutGroup]:
    return st.builds(PutGroup, st.sampled_from(GROUPS),
                     st.lists(st.sampled_from(MEMBERS), max_size=3, unique=True).map(tuple))


@st.composite
def _step(draw: st.DrawFn, n_docs: int) -> Query | After:
    doc = st.integers(0, n_docs - 1)
    user = draw(st.sampled_from(USERS))
    kind = draw(st.sampled_from(STEP_KINDS))
    if kind == "query":
        return Query(user, draw(doc), draw(st.sampled_from(QUERY_KINDS)))
    mutation: Mutation
    if kind == "put_group":
        mutation = draw(_put_group())
    elif kind == "delete_group":
        mutation = DeleteGroup(draw(st.sampled_from(GROUPS)))
    elif kind == "set_acl":
        allow, deny = draw(_acl())
        mutation = SetAcl(draw(doc), allow, deny, store_down=draw(st.booleans()))
    elif kind == "bad_acl":
        mutation = BadAcl(draw(doc), draw(st.sampled_from(MALFORMED)))
    elif kind == "delete":
        mutation = Delete(draw(doc), store_down=draw(st.booleans()))
    elif kind == "reingest":
        allow, deny = draw(_acl())
        mutation = Reingest(draw(doc), allow, deny, new_text=draw(st.booleans()))
    else:
        mutation = Repair()
    return After(mutation, user)


@dataclass
class DocState:
    key: str
    sql: Acl
    payload: Acl
    """What the engine's payloads say (lags ``sql`` after a failed write until repair)."""
    active: bool = True
    version: int = 0


@dataclass
class Oracle:
    groups: dict[str, set[str]] = field(default_factory=dict)
    docs: list[DocState] = field(default_factory=list)

    # -- groups -------------------------------------------------------------------------

    def put_group(self, group: str, members: tuple[str, ...]) -> Literal[200, 422]:
        member_groups = {m for m in members if m.startswith("group:")}
        if group in member_groups or any(group in self._below(m) for m in member_groups):
            return 422
        for m in member_groups:
            self.groups.setdefault(m, set())
        self.groups[group] = set(members)
        return 200

    def delete_group(self, group: str) -> Literal[200, 404]:
        if group not in self.groups:
            return 404
        del self.groups[group]
        for members in self.groups.values():
            members.discard(group)
        return 200

    def _below(self, group: str) -> set[str]:
        seen: set[str] = set()
        todo = [group]
        while todo:
            for m in self.groups.get(todo.pop(), ()):
                if m.startswith("group:") and m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    def entitlements(self, user: str) -> frozenset[str]:
        held = {user_id(user), EVERYONE}
        grew = True
        while grew:
            found = {g for g, members in self.groups.items() if members & held}
            grew = not found <= held
            held |= found
        return frozenset(held)

    # -- documents ----------------------------------------------------------------------

    def may_see(self, user: str) -> set[int]:
        """Documents SQL lets the user read: anything else seen is a leak."""
        held = self.entitlements(user)
        return {i for i, d in enumerate(self.docs) if d.active and d.sql.permits(held)}

    def must_see(self, user: str) -> set[int]:
        """Of those, the ones the engine's payloads admit too (every one is found)."""
        held = self.entitlements(user)
        return {i for i in self.may_see(user) if self.docs[i].payload.permits(held)}

    def set_acl(self, doc: int, acl: Acl, *, store_down: bool) -> Literal[200, 404]:
        state = self.docs[doc]
        if not state.active:
            return 404
        state.sql = acl
        if not store_down:
            state.payload = acl
        return 200

    def delete(self, doc: int) -> Literal[200, 404]:
        state = self.docs[doc]
        if not state.active:
            return 404
        state.active = False
        return 200

    def reingest(self, doc: int, acl: Acl, *, new_text: bool) -> None:
        state = self.docs[doc]
        state.sql = state.payload = acl
        state.active = True
        if new_text:
            state.version += 1

    def repair(self) -> None:
        for state in self.docs:
            state.payload = state.sql
