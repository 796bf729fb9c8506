"""What the dashboard keeps of each `trajectory.jsonl` record: the fields its pages show, long texts clipped.

Why digests: a record carries the agent's whole stdout, every prompt and both memos; kept whole, a
200 MB log would be held in memory and sent to the browser at once. A digest keeps what the task page
draws (status, tests, commands, output tails, memo, PDI values, evidence blocks), each text clipped to
its head and tail; the whole record stays on disk, one request away (`/records/{n}`).
"""

from __future__ import annotations

import re
from typing import Any

SHORT = 2_000
MEDIUM = 8_000
LONG = 64_000
RECORD_FIELD_MAX = 256_000  # per string field of a whole record sent by /records/{n}
EVIDENCE_TITLES = ("Task Pattern", "Execution Chain", "Verification", "Lessons", "Environment", "Raw Support Tail")
_EVIDENCE_HEADING = re.compile(r"^## (" + "|".join(map(re.escape, EVIDENCE_TITLES)) + r")\s*$", re.MULTILINE)


def clip(text: Any, limit: int) -> str:
    """`text` whole when short enough, else its first quarter and last three quarters of `limit` characters."""
    if not isinstance(text, str):
        return "" if text is None else str(text)
    if len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    return f"{text[:head]}\n[… {len(text) - limit} characters not shown …]\n{text[-tail:]}"


def clip_all(value: Any, limit: int = RECORD_FIELD_MAX) -> Any:
    """Every string inside `value` (dicts and lists walked) clipped to `limit`."""
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, dict):
        return {k: clip_all(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [clip_all(v, limit) for v in value]
    return value


def evidence_blocks(prompt: str) -> list[dict[str, str]]:
    """The six evidence blocks of a distillation prompt, in order (those present), each clipped."""
    marks = list(_EVIDENCE_HEADING.finditer(prompt))
    blocks = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(prompt)
        blocks.append({"title": mark.group(1), "body": clip(prompt[mark.end():end].strip(), MEDIUM)})
    return blocks


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _strings(value: Any, limit: int = 200) -> list[str]:
    return [clip(v, 500) for v in value[:limit]] if isinstance(value, list) else []


def digest(record: dict[str, Any]) -> dict[str, Any]:
    """The digest of one record (SPARK's record types; an unknown type keeps only its type)."""
    kind = record.get("type")
    common = {"type": kind, "attempt": record.get("attempt"), "ts": _number(record.get("ts"))}
    if kind == "execution_result":
        return common | {
            "status": clip(record.get("status"), 40), "reward": _number(record.get("reward")),
            "success": bool(record.get("success")), "n_passed": _number(record.get("n_passed")),
            "n_tests": _number(record.get("n_tests")), "failed_tests": _strings(record.get("failed_tests")),
            "test_summary": clip(record.get("test_summary"), MEDIUM),
            "commands": clip(record.get("agent_commands"), MEDIUM),
            "stdout_tail": clip(record.get("agent_stdout_full"), SHORT),
            "test_tail": clip(record.get("test_stdout_full"), SHORT),
            "error": clip(record.get("error"), SHORT), "intervention": record.get("intervention"),
            "logs_intervention": "intervention" in record,  # SPARK's own logs have no such field
            "retry_injection": clip(record.get("retry_injection"), MEDIUM),
            "trial_dir": record.get("trial_dir") if isinstance(record.get("trial_dir"), str) else None,
        }
    if kind == "pdi_snapshot":
        values = ("step", "proxy_exec", "proxy_plan", "proxy_oss", "raw_pdi", "weight", "weighted_pdi")
        return common | {k: _number(record.get(k)) for k in values} | {
            "triggered": bool(record.get("triggered")),
            "level": record.get("level") if record.get("level") in ("soft", "strong") else None,
        }
    if kind == "reflect_call":
        return common | {
            "model": clip(record.get("model"), 200), "ok": record.get("ok", True) is not False,
            "failure": clip(record.get("failure"), SHORT), "memo_after": clip(record.get("memo_after"), LONG),
            "input_tokens": _number(record.get("input_tokens")), "output_tokens": _number(record.get("output_tokens")),
        }
    if kind == "skill_gen_call":
        return common | {
            "model": clip(record.get("model"), 200), "skill_name": clip(record.get("skill_name"), 200),
            "repaired": bool(record.get("repaired")), "problems": _strings(record.get("problems")),
            "evidence": evidence_blocks(record.get("user_prompt") if isinstance(record.get("user_prompt"), str) else ""),
        }
    if kind == "task_summary":
        keep = ("task_name", "success", "total_attempts", "reward_trajectory", "status_trajectory", "total_time_s",
                "total_input_tokens", "total_output_tokens", "exploration_config", "state", "reason", "interventions")
        return common | clip_all({k: record.get(k) for k in keep if k in record}, SHORT)
    return {"type": clip(kind, 40) if kind is not None else None, "attempt": common["attempt"]}
