"""Random group graphs: SQL agrees with a plain Python model of nesting and cycles.

Each example writes under a tenant of its own, so examples share the test's database
without seeing each other (which also exercises tenant isolation once more).
"""

from __future__ import annotations

import uuid
from collections import deque
from itertools import pairwise

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from acl import delete_group, entitlements_for, get_group, membership_chains, put_group
from core.db import transaction
from core.errors import AclInvalid, GroupCycle

Graph = dict[str, set[str]]
"""group id -> its direct members"""

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
USERS = [f"user:u{i}@x.com" for i in range(5)]
GROUPS = [f"group:g{i}" for i in range(7)]


def reference_closure(graph: Graph, user: str) -> set[str]:
    """Every principal the user holds, by fixpoint iteration (no SQL, no cleverness)."""
    held = {user, "everyone"}
    while True:
        more = {g for g, members in graph.items() if members & held} - held
        if not more:
            return held
        held |= more


def reference_distances(graph: Graph, user: str) -> dict[str, int]:
    distance = {user: 0}
    queue = deque([user])
    while queue:
        member = queue.popleft()
        for group, members in graph.items():
            if member in members and group not in distance:
                distance[group] = distance[member] + 1
                queue.append(group)
    return distance


def contains(graph: Graph, outer: str, inner: str) -> bool:
    """Does ``outer`` contain ``inner`` (or is it ``inner``), through any nesting?"""
    seen, stack = set(), [outer]
    while stack:
        group = stack.pop()
        if group == inner:
            return True
        if group not in seen:
            seen.add(group)
            stack.extend(m for m in graph.get(group, ()) if m.startswith("group:"))
    return False


@st.composite
def dags(draw: st.DrawFn) -> Graph:
    """Groups g0..gn where gi may contain users and any gj with j < i: acyclic by order."""
    count = draw(st.integers(min_value=1, max_value=len(GROUPS)))
    graph: Graph = {}
    for i, group in enumerate(GROUPS[:count]):
        candidates = USERS + GROUPS[:i]
        graph[group] = draw(st.sets(st.sampled_from(candidates), max_size=4))
    return graph


@PROPERTY_SETTINGS
@given(graph=dags())
def test_entitlements_match_the_reference_closure_on_random_dags(
    sessions: sessionmaker[Session], graph: Graph
) -> None:
    tenant = f"t-{uuid.uuid4().hex}"
    with transaction(sessions) as s:
        for group, members in graph.items():  # insertion order is topological
            put_group(s, tenant=tenant, group_id=group, members=sorted(members))
    with sessions() as s:
        for user in [*USERS, "user:nobody@x.com"]:
            expected = reference_closure(graph, user)
            got = entitlements_for(s, tenant=tenant, user_id=user)
            assert got.principals == expected, user
            chains = membership_chains(s, tenant=tenant, user_id=user)
            assert set(chains) == expected
            distances = reference_distances(graph, user)
            for principal, chain in chains.items():
                assert chain[0] == user and chain[-1] == principal
                if principal == "everyone":
                    continue
                assert len(chain) - 1 == distances[principal], chain
                for member, group in pairwise(chain):
                    assert member in graph[group], chain


operations: st.SearchStrategy[list[tuple[str, str, set[str]]]] = st.lists(
    st.one_of(
        st.tuples(
            st.just("put"),
            st.sampled_from(GROUPS[:5]),
            st.sets(st.sampled_from(USERS[:3] + GROUPS[:5]), max_size=3),
        ),
        st.tuples(st.just("delete"), st.sampled_from(GROUPS[:5]), st.builds(set)),
    ),
    min_size=1,
    max_size=12,
)


@PROPERTY_SETTINGS
@given(ops=operations)
def test_random_edits_refuse_exactly_the_cycles(
    sessions: sessionmaker[Session], ops: list[tuple[str, str, set[str]]]
) -> None:
    tenant = f"t-{uuid.uuid4().hex}"
    model: Graph = {group: set() for group in GROUPS[:5]}
    with transaction(sessions) as s:
        for group in model:
            put_group(s, tenant=tenant, group_id=group, members=[])
    for op, group, members in ops:
        if op == "delete":
            if group not in model:
                continue
            with transaction(sessions) as s:
                delete_group(s, tenant=tenant, group_id=group)
            del model[group]
            for others in model.values():
                others.discard(group)
            continue
        member_groups = {m for m in members if m.startswith("group:")}
        # precedence: self-membership, then a cycle through nesting; unknown member
        # groups are created empty
        if group in members:
            expected: type[Exception] | None = GroupCycle
        elif any(contains(model, m, group) for m in member_groups):
            expected = GroupCycle
        else:
            expected = None
        event(f"put: {expected.__name__ if expected else 'accepted'}")
        try:
            with transaction(sessions) as s:
                put_group(s, tenant=tenant, group_id=group, members=sorted(members))
        except (GroupCycle, AclInvalid) as exc:
            assert type(exc) is expected, (op, group, members, model)
        else:
            assert expected is None, (op, group, members, model)
            model[group] = set(members)
            for new_group in member_groups - set(model):
                model[new_group] = set()
    with sessions() as s:
        for group, members in model.items():
            assert set(get_group(s, tenant=tenant, group_id=group).members) == members
        for user in USERS[:3]:
            got = entitlements_for(s, tenant=tenant, user_id=user).principals
            assert got == reference_closure(model, user)
