"""A run-level spending limit (`--max-cost`) shared by every client of a run.

Checked before each call, so a call that has started always finishes and is accounted; several calls
in flight at once can therefore overshoot the limit by at most their own cost. A run that spends through
other processes (an agent inside a Harbor trial keeps its own Budget) hands each one `remaining_usd` and
adds back what it spent; a resumed run starts from what earlier runs spent (`spent_usd`).
"""

from __future__ import annotations

import threading

from skillspark.llm.errors import BudgetExceeded


class Budget:
    """Dollars spent so far against `max_cost_usd` (None: unlimited, still counted)."""

    def __init__(self, max_cost_usd: float | None, spent_usd: float = 0.0) -> None:
        if max_cost_usd is not None and max_cost_usd < 0:
            raise ValueError("max_cost_usd must be >= 0")
        self.max_cost_usd = max_cost_usd
        self.spent_usd = spent_usd
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def exhausted(self) -> bool:
        return self.max_cost_usd is not None and self.spent_usd >= self.max_cost_usd

    def check(self) -> None:
        """Raise BudgetExceeded if the budget is already spent."""
        with self._lock:
            if self.exhausted:
                raise BudgetExceeded(
                    f"cost budget spent: ${self.spent_usd:.4f} of ${self.max_cost_usd:.4f}; raise --max-cost to continue"
                )

    def add(self, cost_usd: float | None) -> None:
        """Account one finished call (unknown cost counts as 0)."""
        with self._lock:
            self.calls += 1
            self.spent_usd += cost_usd or 0.0

    @property
    def remaining_usd(self) -> float | None:
        return None if self.max_cost_usd is None else max(0.0, self.max_cost_usd - self.spent_usd)
