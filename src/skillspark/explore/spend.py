"""What an exploration run has spent against `--max-cost`, kept in `<output>/spend.json`.

Why a file: the limit is for the run's output folder as a whole, so `--resume` must start from what
earlier invocations spent (a resumed run with the same limit stops at once; a higher one continues).
The summarizer and distiller charge the shared `Budget` per call; each attempt's agent runs inside a
Harbor trial with its own Budget of the amount remaining, and what the trial spent is added to the shared
one (`agents.trials.settle`) before the file is saved.
"""

from __future__ import annotations

import json
from pathlib import Path

from skillspark.errors import UserError
from skillspark.files import write_atomic
from skillspark.llm.budget import Budget

SPEND_FILE = "spend.json"


class SpendLedger:
    """The run's `Budget`, loaded from and saved to `<output>/spend.json`."""

    def __init__(self, output: Path, max_cost_usd: float | None, *, resume: bool) -> None:
        self.path = output / SPEND_FILE
        self.budget = Budget(max_cost_usd, spent_usd=self._earlier_spend() if resume else 0.0)

    def _earlier_spend(self) -> float:
        if not self.path.exists():
            return 0.0
        try:
            return float(json.loads(self.path.read_text(encoding="utf-8"))["spent_usd"])
        except (ValueError, KeyError, TypeError):
            raise UserError(f"{self.path} is not a valid spend file; fix or delete it "
                            "(the run's earlier spend is then counted as $0)") from None

    def save(self) -> None:
        b = self.budget
        write_atomic(self.path, json.dumps({"spent_usd": round(b.spent_usd, 8), "max_cost_usd": b.max_cost_usd}),
                     make_parents=True)

    def stop_reason(self, during: str) -> str:
        """The one line a task stopped by the budget keeps as its reason."""
        b = self.budget
        return (f"cost budget spent during {during}: ${b.spent_usd:.4f} of ${b.max_cost_usd or 0:.4f} (--max-cost); "
                "run again with --resume and a higher --max-cost to continue")
