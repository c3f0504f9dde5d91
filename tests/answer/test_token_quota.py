"""``DailyTokenQuota`` on real SQL stores: the upsert loses no increment under concurrent
answers on SQLite and PostgreSQL, budgets are per user and per tenant of one UTC day, and
the refusal names the spent budget and its reset, nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from answer import DailyTokenQuota
from answer.quota import Spent
from core.db import make_engine, session_factory, transaction, upgrade_to_head
from core.errors import TokenBudgetExceeded

NOON = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'quota.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    engine = make_engine(url, pool_size=8) if request.param == "postgresql" else make_engine(url)
    upgrade_to_head(engine)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def _spent(sessions: sessionmaker[Session], quota: DailyTokenQuota, user: str,
           tenant: str = "acme") -> Spent:
    with sessions() as session:
        return quota.spent(session, tenant=tenant, user_id=user)


def test_concurrent_answers_lose_no_token(sessions: sessionmaker[Session]) -> None:
    quota = DailyTokenQuota(clock=lambda: NOON)

    def spend(i: int) -> None:
        with transaction(sessions) as session:
            quota.add(session, tenant="acme", user_id=f"user:u{i % 2}@x.com", tokens=3)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(spend, range(200)))
    assert _spent(sessions, quota, "user:u0@x.com") == Spent(user_tokens=300, tenant_tokens=600)
    assert _spent(sessions, quota, "user:u1@x.com").user_tokens == 300


def test_a_budget_is_per_user_per_tenant_and_per_utc_day(
        sessions: sessionmaker[Session]) -> None:
    now = NOON
    quota = DailyTokenQuota(user_daily=100, tenant_daily=1000, clock=lambda: now)
    with transaction(sessions) as session:
        quota.add(session, tenant="acme", user_id="user:dave@x.com", tokens=100)
        quota.add(session, tenant="acme", user_id="user:erin@x.com", tokens=0)  # nothing
    with sessions() as session:
        with pytest.raises(TokenBudgetExceeded) as refused:
            quota.check(session, tenant="acme", user_id="user:dave@x.com")
        assert refused.value.budgets == ("user",) and refused.value.http_status == 429
        assert refused.value.retry_after_s == 12 * 3600
        quota.check(session, tenant="acme", user_id="user:erin@x.com")
        quota.check(session, tenant="other", user_id="user:dave@x.com")  # another tenant
    now = NOON + timedelta(hours=12)
    with sessions() as session:
        quota.check(session, tenant="acme", user_id="user:dave@x.com")
        assert quota.spent(session, tenant="acme", user_id="user:dave@x.com") == Spent(0, 0)


def test_both_spent_budgets_are_named_and_nothing_else(sessions: sessionmaker[Session]) -> None:
    quota = DailyTokenQuota(user_daily=10, tenant_daily=10,
                            clock=lambda: datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    with transaction(sessions) as session:
        quota.add(session, tenant="acme", user_id="user:dave@x.com", tokens=10)
    with sessions() as session, pytest.raises(TokenBudgetExceeded) as refused:
        quota.check(session, tenant="acme", user_id="user:dave@x.com")
    assert refused.value.budgets == ("user", "tenant")
    assert refused.value.retry_after_s == 24 * 3600
    assert refused.value.message == (
        "The user's daily budget of 10 model tokens (CLEARANCE_USER_DAILY_TOKEN_BUDGET) and "
        "the tenant's daily budget of 10 model tokens (CLEARANCE_TENANT_DAILY_TOKEN_BUDGET) "
        "are spent; they reset at the next UTC midnight, 2026-11-02T00:00:00Z (in 86400 s).")


def test_unlimited_budgets_never_refuse(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    upgrade_to_head(engine)
    sessions = session_factory(engine)
    quota = DailyTokenQuota(clock=lambda: NOON)
    with transaction(sessions) as session:
        quota.add(session, tenant="acme", user_id="user:dave@x.com", tokens=10**12)
    with sessions() as session:
        quota.check(session, tenant="acme", user_id="user:dave@x.com")
    engine.dispose()


def test_the_day_is_the_utc_day_whatever_zone_the_clock_speaks() -> None:
    local = datetime(2026, 11, 2, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert DailyTokenQuota(clock=lambda: local).today().isoformat() == "2026-11-01"
