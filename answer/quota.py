"""Daily token budgets: the model tokens a user, and a whole tenant, may spend a UTC day.

``DailyTokenQuota.check`` runs before a question reaches a model provider and refuses it
with ``TokenBudgetExceeded`` (429 ``token_budget_exceeded``, ``Retry-After`` the seconds
to the next UTC midnight) once what was spent today reaches a budget. ``add`` counts what
an answer spent, input and output tokens as the adapter reported them in ``usage``.

- Counting is an upsert (``INSERT … ON CONFLICT DO UPDATE SET tokens = tokens + n``) of
  the user's row and the tenant's row (``TENANT_WIDE``): atomic on SQLite and PostgreSQL,
  so concurrent answers never lose an increment.
- The budget is checked before a question and counted after it, because a reply's size is
  known only then: the answer that crosses a budget is given, and questions already under
  way when it is crossed finish too. A budget is a daily cap, not a per-request limit.
- Only reported usage counts: a cached answer, the extractive answer (also when it stands
  in for a failing provider) and a stream the caller abandoned report none.
- The extractive adapter asks no model and spends nothing, so with it budgets never refuse
  (``api/state.py`` builds no quota for it, and ``Answerer`` skips it as well).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import TokenBudgetExceeded
from core.models import TENANT_WIDE, TokenUsage

__all__ = ["DailyTokenQuota", "Spent"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Spent:
    """Tokens spent on one UTC day by one user and by their whole tenant."""

    user_tokens: int
    tenant_tokens: int


@dataclass
class DailyTokenQuota:
    """``None`` budgets are unlimited; ``clock`` (aware datetimes) is for tests."""

    user_daily: int | None = None
    tenant_daily: int | None = None
    clock: Callable[[], datetime] = field(default=_utcnow)

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    def spent(self, session: Session, *, tenant: str, user_id: str | None,
              day: date | None = None) -> Spent:
        day = day or self.today()
        ids = [TENANT_WIDE] + ([user_id] if user_id else [])
        rows: dict[str, int] = {
            principal: tokens for principal, tokens in session.execute(
                select(TokenUsage.principal_id, TokenUsage.tokens)
                .where(TokenUsage.tenant_id == tenant, TokenUsage.day == day,
                       TokenUsage.principal_id.in_(ids)))}
        return Spent(user_tokens=int(rows.get(user_id, 0)) if user_id else 0,
                     tenant_tokens=int(rows.get(TENANT_WIDE, 0)))

    def check(self, session: Session, *, tenant: str, user_id: str | None) -> None:
        """Raise ``TokenBudgetExceeded`` when the user's or the tenant's budget for today
        is spent. The message names the budget and the reset time, nothing else."""
        if self.user_daily is None and self.tenant_daily is None:
            return
        now = self.clock().astimezone(UTC)
        spent = self.spent(session, tenant=tenant, user_id=user_id, day=now.date())
        over: list[tuple[str, str, int]] = []
        if self.user_daily is not None and user_id and spent.user_tokens >= self.user_daily:
            over.append(("user", "USER", self.user_daily))
        if self.tenant_daily is not None and spent.tenant_tokens >= self.tenant_daily:
            over.append(("tenant", "TENANT", self.tenant_daily))
        if not over:
            return
        reset = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=UTC)
        retry_after_s = (reset - now).total_seconds()
        spent_ones = " and ".join(
            f"the {who}'s daily budget of {budget} model tokens "
            f"(CLEARANCE_{setting}_DAILY_TOKEN_BUDGET)" for who, setting, budget in over)
        verb, pronoun = ("is", "it") if len(over) == 1 else ("are", "they")
        raise TokenBudgetExceeded(
            f"{spent_ones[0].upper()}{spent_ones[1:]} {verb} spent; {pronoun} reset"
            f"{'s' if len(over) == 1 else ''} at the next "
            f"UTC midnight, {reset:%Y-%m-%dT%H:%M:%SZ} (in {int(retry_after_s + 0.999)} s).",
            budgets=tuple(who for who, _, _ in over), retry_after_s=retry_after_s)

    def add(self, session: Session, *, tenant: str, user_id: str | None, tokens: int) -> None:
        """Count ``tokens`` for today against the user and the tenant, in ``session``'s
        transaction (committed with it). Rows are locked user first, then tenant."""
        if tokens <= 0:
            return
        now = self.clock().astimezone(UTC)
        ids = ([user_id] if user_id else []) + [TENANT_WIDE]
        rows = [{"tenant_id": tenant, "principal_id": principal, "day": now.date(),
                 "tokens": tokens, "updated_at": now} for principal in ids]
        insert = _dialect_insert(session)
        statement = insert(TokenUsage).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[TokenUsage.tenant_id, TokenUsage.principal_id, TokenUsage.day],
            set_={"tokens": TokenUsage.tokens + statement.excluded.tokens,
                  "updated_at": statement.excluded.updated_at},
        )
        session.execute(statement)


def _dialect_insert(session: Session) -> Callable[..., Any]:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        return sqlite_insert
    raise NotImplementedError(f"Token budgets need SQLite or PostgreSQL, not {name} "
                              "(CLEARANCE_DATABASE_URL).")
