"""Builders of memos and trajectory records for the pdi tests (the record format of SPARK's logs)."""

from __future__ import annotations

import json
from pathlib import Path


def memo(facts: str, strategy: str, n: int = 1) -> str:
    """A well-formed exploration memo with the given Verified Facts and Next Strategy."""
    return (
        f"## Exploration Memo ({n} failed attempts)\n\n### Attempts Log\n- #{n}: tried\n\n"
        f"### Commands From Last Attempt\n```\nls\n```\n\n### Verified Facts\n{facts}\n\n"
        f"### Current Error Pattern\nwrong\n\n### Next Strategy\n{strategy}\n"
    )


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def execution(attempt: int, commands: str, failed: list[str] = (), status: str = "FAIL", summary: str = "") -> dict:
    """An execution_result; its test summary lists `failed` as ✗ lines unless `summary` is given."""
    if not summary and failed:
        summary = "FAILED (fix these):\n" + "".join(f"  ✗ {t}\n" for t in failed)
    return {"type": "execution_result", "attempt": attempt, "status": status, "success": status == "PASS",
            "reward": 1.0 if status == "PASS" else 0.0, "agent_commands": commands, "test_summary": summary}  # fmt: skip


def reflect(attempt: int, before: str, after: str, **extra) -> dict:
    return {"type": "reflect_call", "attempt": attempt, "memo_before": before, "memo_after": after, **extra}


def snapshot(attempt: int, step: int, exec_: float, plan: float, oss: float, raw: float, weight: float,
             level: str | None) -> dict:  # fmt: skip
    """A pdi_snapshot record as SPARK writes it (values rounded to 4 places)."""
    values = {"proxy_exec": exec_, "proxy_plan": plan, "proxy_oss": oss, "raw_pdi": raw, "weight": weight,
              "weighted_pdi": weight * raw}  # fmt: skip
    return {"type": "pdi_snapshot", "attempt": attempt, "step": step, **{k: round(v, 4) for k, v in values.items()},
            "triggered": level is not None, "level": level}  # fmt: skip
