"""The repair prompt: what failed, in the words of the check that failed, fed back to the model.

Why targeted: the original rewrote the whole blueprint from a generic complaint and never showed the
model the oracle's traceback. Here the prompt names the failed gates with their details, lists the
failing tests and carries the tail of the oracle's own output, read from its trial under the audit's
work dir (through `TrialReader`: a trial dir is written by sandboxed code).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from skillspark.harbor.safe_read import TrialReader
from skillspark.harbor.trials import ctrf_results
from skillspark.taskgen.prompts import fill

ORACLE_TAIL_CHARS = 2000
_NONE = "(none recorded)"


class OracleEvidence(BaseModel):
    """What the oracle's trial left: failing tests and the end of its output."""

    failing_tests: list[str] = Field(default_factory=list)
    output_tail: str = ""


def oracle_evidence(work_dir: Path) -> OracleEvidence:
    """Read the first oracle trial under `work_dir` (Harbor's oracle agent writes agent/oracle.txt)."""
    logs = sorted(work_dir.rglob("agent/oracle.txt"), key=lambda p: (p.stat().st_mtime, str(p))) if work_dir.is_dir() else []
    if not logs:
        return OracleEvidence()
    reader = TrialReader(logs[0].parent.parent)
    results = ctrf_results(reader.json("verifier/ctrf.json"))
    failing = results[1] if results else []
    tail = reader.text_tail("agent/oracle.txt", ORACLE_TAIL_CHARS).strip()
    verifier_tail = reader.text_tail("verifier/test-stdout.txt", ORACLE_TAIL_CHARS // 2).strip()
    if verifier_tail:
        tail = f"{tail}\n--- verifier output ---\n{verifier_tail}".strip()
    return OracleEvidence(failing_tests=failing, output_tail=tail)


def repair_prompt(problems: list[str], failed_gates: list[str], evidence: OracleEvidence, previous: str) -> str:
    """The user message of a repair round; `previous` is the last blueprint JSON (or the unusable answer)."""
    lines = []
    if failed_gates:
        lines.append(f"Failed gates: {', '.join(failed_gates)}")
    lines += [f"- {p}" for p in problems]
    return fill(
        "repair_user",
        problems="\n".join(lines) or _NONE,
        failing_tests="\n".join(f"- {t}" for t in evidence.failing_tests) or _NONE,
        oracle_tail=f"```\n{evidence.output_tail}\n```" if evidence.output_tail else _NONE,
        blueprint=previous,
    )
