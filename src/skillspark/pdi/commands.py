"""`skillspark pdi replay` and `skillspark pdi score`: the commands over `pdi.evidence` (which reads the files).

Logs are streamed line by line (a log can be large). Bad input (a missing or binary file, a line that
is not UTF-8 or not JSON, JSON nested too deeply, a bad record, a SKILL.md that is not text) is one
`error:` line naming the file and line; the other files and folders are still processed, and the
command then exits with code 2.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from skillspark.errors import UserError, print_error
from skillspark.files import write_atomic
from skillspark.pdi.evidence import TRAJECTORY_FILE, load_evidence, read_jsonl
from skillspark.pdi.log import RecordError
from skillspark.pdi.replay import ReplayRow, replay
from skillspark.pdi.text import Method
from skillspark.pdi.trajectory import SkillEvidence, SkillScore, score_skills

app = typer.Typer(no_args_is_help=True, help="Posterior Distillation Index: replay and score.")

ROW_KEYS = (
    "proxy_exec", "proxy_plan", "proxy_oss", "raw_pdi", "weight", "weighted_pdi", "triggered", "level",
)  # fmt: skip
CSV_COLUMNS = ("task", "phi_exec", "phi_plan", "phi_oss", "pdi", "quadrant")

MethodOption = Annotated[
    Method, typer.Option("--method", help="Similarity: token_overlap (SPARK's online default) or js_divergence.")
]


def _rows(path: Path, method: Method, memo_guard: bool | None) -> Iterator[ReplayRow]:
    try:
        yield from replay(read_jsonl(path), method, memo_guard)
    except RecordError as exc:
        raise UserError(f"{path} line {exc.line}: {exc.message}; fix or remove that record") from None


def _json_line(path: Path, row: ReplayRow) -> str:
    snap = row.snapshot or row.logged
    out: dict[str, Any] = {"file": str(path), "attempt": snap.attempt, "step": snap.step if row.snapshot else None}
    out.update({k: getattr(row.snapshot, k) if row.snapshot else None for k in ROW_KEYS})
    out["logged"] = row.logged.model_dump(include={"attempt", "step", *ROW_KEYS}) if row.logged else None
    return json.dumps(out)


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value if value is not None else "-")


def _replay_table(title: str) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0, 0, 1))
    for col in ("attempt", "step", "exec", "plan", "oss", "raw", "w", "d", "level", "log"):
        table.add_column(col, justify="right", no_wrap=True)
    return table


@app.command("replay")
def replay_command(
    files: Annotated[list[Path], typer.Argument(help="trajectory.jsonl files (ours or SPARK's).")],
    method: MethodOption = "token_overlap",
    json_path: Annotated[Path | None, typer.Option("--json", help=(
        "Also write one JSON object per snapshot and line to this file ('-': to stdout, instead of the tables)."))
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when any logged snapshot differs.")] = False,
    memo_guard: Annotated[
        bool | None,
        typer.Option(
            "--memo-guard/--no-memo-guard",
            help="A failed or invalid memo rewrite is no proxy step and the old memo stays (skillspark), or every "
            "rewrite is a step with the reply as the new memo (SPARK). Default: as each log was written.",
        ),
    ] = None,
) -> None:
    """Recompute the online PDI proxy from logged runs and compare with the logged snapshots."""
    from rich.console import Console

    console = Console()
    _refuse_overwriting_an_input(json_path, files)
    to_stdout = json_path == Path("-")
    json_lines: list[str] = []
    bad = differs = 0
    for path in files:
        matched = logged = 0
        table = _replay_table(f"{path.parent.name}/{path.name}")
        try:
            for row in _rows(path, method, memo_guard):
                logged += row.logged is not None
                matched += bool(row.matched)
                if json_path is not None:
                    json_lines.append(_json_line(path, row))
                if to_stdout:
                    continue
                s, mark = row.snapshot, {None: "-", True: "match", False: "DIFF"}[row.matched]
                values = (s.attempt, s.step, s.proxy_exec, s.proxy_plan, s.proxy_oss, s.raw_pdi, s.weight,
                          s.weighted_pdi, s.level) if s else (row.logged.attempt, *("-",) * 8)  # fmt: skip
                table.add_row(*map(_fmt, values), mark)
        except UserError as exc:
            print_error(str(exc))
            bad += 1
            continue
        differs += logged - matched
        if not to_stdout:
            console.print(table)
            console.print(f"{path}: matched {matched}/{logged} logged snapshots", soft_wrap=True)
    if to_stdout:
        print("\n".join(json_lines))
    elif json_path is not None:
        write_atomic(json_path, "".join(f"{line}\n" for line in json_lines), make_parents=True)
    if bad:
        raise typer.Exit(2)
    if check and differs:
        raise typer.Exit(1)


def _refuse_overwriting_an_input(json_path: Path | None, files: list[Path]) -> None:
    """`--json` names where to write; before it took a path it was a switch, so `--json LOG` in an old script
    would now name a log as the output. That one case is refused instead of overwriting the log."""
    if json_path is None or json_path == Path("-"):
        return
    if any(json_path.resolve() == f.resolve() for f in files) or (
            json_path.is_file() and json_path.name == TRAJECTORY_FILE):
        raise UserError(f"--json {json_path}: that is a trajectory log, not an output file; "
                        "pass where to write the JSON lines (or '-' for stdout) and the logs after it")


def _task_dirs(result_dir: Path) -> list[Path]:
    if not result_dir.is_dir():
        raise UserError(f"{result_dir}: not a directory; pass an explore output directory (--output of explore)")
    if (result_dir / TRAJECTORY_FILE).is_file():
        return [result_dir]
    return sorted(d for d in result_dir.iterdir() if (d / TRAJECTORY_FILE).is_file())


def write_csv(path: Path, scores: list[SkillScore]) -> None:
    """CSV with one row per skill, written to a temp name and renamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for s in scores:
        writer.writerow([s.task, *(f"{getattr(s, k):.6f}" for k in CSV_COLUMNS[1:5]), s.quadrant])
    try:
        write_atomic(path, buffer.getvalue())
    except OSError as exc:
        raise UserError(f"--csv {path}: cannot write ({exc.strerror}); choose a writable path") from None


@app.command("score")
def score_command(
    result_dirs: Annotated[list[Path], typer.Argument(help="Explore output dirs (per-task folders).")],
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Also write the table as CSV here.")] = None,
    method: Annotated[
        Method, typer.Option("--method", help="Similarity for φ terms (the paper uses js_divergence).")
    ] = "js_divergence",
) -> None:
    """Trajectory-level PDI of each distilled skill, z-scored over all skills given."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    evidence: list[SkillEvidence] = []
    skipped: list[str] = []
    bad = 0
    for result_dir in result_dirs:
        try:
            task_dirs = _task_dirs(result_dir)
        except UserError as exc:
            print_error(str(exc))
            bad += 1
            continue
        for task_dir in task_dirs:
            try:
                item = load_evidence(task_dir)
            except UserError as exc:
                print_error(str(exc))
                bad += 1
                continue
            (evidence.append(item) if item else skipped.append(task_dir.name))
    if not evidence and bad:
        raise typer.Exit(2)
    if not evidence:
        raise UserError(
            f"no task folder with SKILL.md, trajectory.jsonl and a PASS attempt under {', '.join(map(str, result_dirs))};"
            " run `skillspark explore` first or point at its --output directory"
        )
    scores = score_skills(evidence, method)
    table = Table(title=f"trajectory-level PDI ({method}, {len(scores)} skills)")
    for col in CSV_COLUMNS:
        table.add_column(col, justify="left" if col in ("task", "quadrant") else "right")
    for s in scores:
        table.add_row(s.task, *(f"{getattr(s, k):.4f}" for k in CSV_COLUMNS[1:5]), s.quadrant)
    console.print(table)
    if skipped:
        console.print(f"no skill scored for: {', '.join(skipped)} (no SKILL.md or no PASS attempt)")
    if csv_path is not None:
        write_csv(csv_path, scores)
        console.print(f"wrote {csv_path}")
    if bad:
        raise typer.Exit(2)
