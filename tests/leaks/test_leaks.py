"""Zero leaks, proven on random worlds: whatever the users, nested groups, ACLs, queries
(the exact codes and words of restricted documents included) and interleaved mutations,
no response of any path carries anything of a document the caller may not read, and the
very next query after each change obeys the new state. On both stores.

A fixed seed runs here; ``python -m bench.leaks`` runs the long campaign.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings

from .harness import leak_harness
from .world import World, worlds

EXAMPLES = 12


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_no_response_ever_carries_a_document_the_caller_may_not_read(
        kind: str, tmp_path: Path) -> None:
    with leak_harness(kind, tmp_path) as harness:

        @seed(20261124)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck), print_blob=True)
        @given(world=worlds(max_docs=5, max_steps=10))
        def check(world: World) -> None:
            harness.run(world)

        check()
    assert harness.leaks == [] and harness.wrong == []
    assert harness.query_checks >= EXAMPLES * 10, harness.checks
