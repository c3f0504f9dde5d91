"""A circuit breaker: after repeated provider failures, stop calling it for a cool-down.

    closed ──(failure_threshold consecutive failures, or one 429)──▶ open
    open ──(cool-down, or the provider's Retry-After, elapsed)──▶ half-open
    half-open ──(the one trial call succeeds)──▶ closed
    half-open ──(it fails)──▶ open again

While open, answers come from the extractive fallback at once, so a struggling provider
gets no retry storm from us and callers get no wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["CircuitBreaker"]


class CircuitBreaker:
    def __init__(self, *, failure_threshold: int = 3, cooldown_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._open_until is None:
                return "closed"
            return "open" if self._clock() < self._open_until else "half_open"

    def allow(self) -> bool:
        """Whether to call the provider now; in half-open, only one caller gets a yes."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._clock() < self._open_until or self._trial_in_flight:
                return False
            self._trial_in_flight = True
            return True

    def release_trial(self) -> None:
        """End a half-open trial whose outcome was never recorded (a caller that went away
        mid-stream), so the next caller may try; a no-op otherwise."""
        with self._lock:
            self._trial_in_flight = False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._open_until = None
            self._trial_in_flight = False

    def record_failure(self, *, retry_after_s: float | None = None) -> None:
        """Count a failure; a rate limit (``retry_after_s`` given, even 0) opens at once."""
        with self._lock:
            self._failures += 1
            self._trial_in_flight = False
            rate_limited = retry_after_s is not None
            if rate_limited or self._failures >= self.failure_threshold or (
                self._open_until is not None  # a failed half-open trial
            ):
                wait = max(retry_after_s or 0.0, self.cooldown_s if not rate_limited else 0.0)
                self._open_until = self._clock() + (wait or self.cooldown_s)
