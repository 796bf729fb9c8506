"""Soak: a long `skillspark eval` through a flaky simulated remote environment, killed with -9 and resumed.

What it checks (issue 19, "At scale"): an eval of >= 300 trials at `-p 16` whose environment
(tests/fakes/flaky_remote_env.py, loaded by import path) adds latency and fails starts, commands and
uploads at random; the student is a scripted OpenAI-compatible endpoint that answers one fixed command
(so a trial is cheap and should pass) and, once, answers a burst of 429 and 500 for a few seconds. The
eval process is killed with SIGKILL at random points (`--kills` times) and continued with `--resume`.

It prints: trials lost (a planned trial with no result line: must be 0), trials run twice (a trial with
two result lines, or a committed line changed or lost by a resume: must be 0), how the injected failures
ended (retried, infra_error), peak RSS and open fds of the eval process sampled through the run (by
quarters of the trials done, so growth with the number of trials shows), and throughput in trials/s.

    .venv/bin/python benchmarks/soak.py [--trials 300] [--parallelism 16] [--kills 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test helpers are the package `tests`

from skillspark.evaluate.results import EvalResult, read_results  # noqa: E402
from tests.agents.greet_task import make_task  # noqa: E402
from tests.fakes.scripted_openai import Reply, ScriptedOpenAIServer, ScriptedRequest  # noqa: E402

ENV_IMPORT_PATH = "tests.fakes.flaky_remote_env:FlakyRemoteEnvironment"
SKILLSPARK = Path(sys.executable).with_name("skillspark")
CONDITIONS = ("none", "placebo")
ANSWER = "I write the file and submit.\n```bash\necho hello > /app/greeting.txt\nsubmit\n```"


class BurstyStudent:
    """The scripted student: the fixed answer, except for `burst_s` seconds after request `burst_after`,
    when every request gets 429 or 500 (alternating) instead; counts what it served."""

    def __init__(self, burst_after: int, burst_s: float):
        self.burst_after, self.burst_s = burst_after, burst_s
        self.served: Counter[int] = Counter()
        self._burst_until: float | None = None
        self._lock = threading.Lock()

    def __call__(self, request: ScriptedRequest) -> Reply:
        with self._lock:
            n = sum(self.served.values())
            if n == self.burst_after:
                self._burst_until = time.monotonic() + self.burst_s
            in_burst = self._burst_until is not None and time.monotonic() < self._burst_until
            status = (429 if n % 2 else 500) if in_burst else 200
            self.served[status] += 1
        if status == 429:
            return Reply(status=429, error="rate limited (soak burst)", headers={"Retry-After": "1"})
        if status == 500:
            return Reply(status=500, error="internal error (soak burst)")
        return Reply(text=ANSWER, prompt_tokens=50, completion_tokens=12)


@dataclass
class Sample:
    t: float
    done: int
    rss_kb: int
    fds: int


@dataclass
class Segment:
    """One eval process from start to its end (finished or killed)."""

    killed: bool
    wall_s: float
    done_before: int
    done_after: int
    samples: list[Sample] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # names of processes the killed eval left behind


@dataclass
class SoakSetup:
    out: Path
    tasks: Path
    k: int
    parallelism: int
    api_base: str
    ledger: Path
    seed: int = 0
    latency_s: float = 0.05
    infra_retries: int = 2
    failure_rates: dict[str, float] = field(default_factory=dict)  # start/exec/upload -> probability per call

    def argv(self, *, resume: bool) -> list[str]:
        argv = [str(SKILLSPARK), "eval", str(self.tasks), "--model", "openai/scripted", "--api-base", self.api_base,
                "--env", ENV_IMPORT_PATH, "-k", str(self.k), "-p", str(self.parallelism), "--seed", str(self.seed),
                "--max-steps", "3", "--command-timeout", "30", "--infra-retries", str(self.infra_retries),
                "--output", str(self.out)]
        for condition in CONDITIONS:
            argv += ["--condition", condition]
        return argv + (["--resume"] if resume else [])

    def env(self) -> dict[str, str]:
        return os.environ | {
            "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-soak-not-a-real-key", "COLUMNS": "120",
            "SKILLSPARK_FLAKY_LEDGER": str(self.ledger), "SKILLSPARK_FLAKY_LATENCY_S": str(self.latency_s),
        } | {f"SKILLSPARK_FLAKY_P_{op.upper()}": str(p) for op, p in self.failure_rates.items()}


def make_tasks(root: Path, n: int) -> Path:
    for i in range(n):
        make_task(root, f"soak-{i:02d}")
    return root


def result_lines(out: Path) -> list[EvalResult]:
    """Every complete line of results.jsonl as written (before a --resume repairs it: repeats kept)."""
    return read_results(out)


def sample(pid: int) -> tuple[int, int] | None:
    """(VmRSS in kB, open fds) of a live process, None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration, ValueError):
        return None


def session_members(sid: int) -> dict[int, str]:
    """Processes still in session `sid` (what a killed eval left behind: sandboxes, servers), by pid: name."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == sid:  # after state, ppid, pgrp: session
                found[int(entry.name)] = stat[stat.index("(") + 1:stat.rindex(")")]
        except (OSError, ValueError, IndexError):
            continue
    return found


def sandbox_state_dirs() -> set[str]:
    """The local sandbox's per-trial state folders in the temp dir (a trial cut off by a kill leaves its own)."""
    return {p.name for p in Path(tempfile.gettempdir()).glob("skillspark-sbx-*")}


def run_segment(setup: SoakSetup, *, resume: bool, kill_at: int | None, rng: random.Random,
                log, timeout_s: float) -> Segment:
    """One eval process; SIGKILL it (at a random moment soon after `kill_at` results) when asked."""
    before = len(result_lines(setup.out))
    started = time.monotonic()
    child = subprocess.Popen(setup.argv(resume=resume), env=setup.env(), stdout=log, stderr=log,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    segment = Segment(killed=False, wall_s=0.0, done_before=before, done_after=before)
    kill_time: float | None = None
    try:
        while child.poll() is None:
            done = len(result_lines(setup.out))
            if (figures := sample(child.pid)) is not None:
                segment.samples.append(Sample(time.monotonic() - started, done, *figures))
            if kill_at is not None and kill_time is None and done >= kill_at:
                kill_time = time.monotonic() + rng.uniform(0.0, 1.5)  # lands mid-trial, mid-write or between
            if kill_time is not None and time.monotonic() >= kill_time:
                child.send_signal(signal.SIGKILL)
                child.wait(30)
                segment.killed = True
                break
            if time.monotonic() - started > timeout_s:
                child.kill()
                raise SystemExit(f"soak: the eval ran past {timeout_s:.0f} s; see {log.name}")
            time.sleep(0.25)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
        leftovers = session_members(child.pid)
        for pid in leftovers:  # our own child's session only, by pid
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        segment.orphans = sorted(leftovers.values())
    segment.wall_s = time.monotonic() - started
    segment.done_after = len(result_lines(setup.out))
    if not segment.killed and child.returncode != 0:
        raise SystemExit(f"soak: eval exited {child.returncode}; see {log.name}")
    return segment


@dataclass
class SoakReport:
    planned: int
    lost: int
    run_twice: int
    changed_by_resume: int
    statuses: Counter
    attempts: int
    injected: Counter
    segments: list[Segment]
    state_dirs_left: int  # sandbox state folders made during the soak and still there at its end
    not_passed: Counter  # (status, exception type) of the results that did not pass

    @property
    def wall_s(self) -> float:
        return sum(s.wall_s for s in self.segments)


def soak(setup: SoakSetup, *, n_tasks: int, kills: int, seed: int, log, timeout_s: float = 1500) -> SoakReport:
    """Run the eval to completion with `kills` SIGKILLs at random result counts in between; check the lines."""
    rng = random.Random(seed)
    planned = n_tasks * len(CONDITIONS) * setup.k
    kill_points = sorted(rng.sample(range(max(1, planned // 20), planned * 17 // 20), kills))
    segments: list[Segment] = []
    state_dirs_before = sandbox_state_dirs()
    committed: dict[tuple, dict] = {}
    run_twice = changed = 0
    for i in range(kills + 1):
        segment = run_segment(setup, resume=i > 0, kill_at=kill_points[i] if i < kills else None, rng=rng,
                              log=log, timeout_s=timeout_s)
        segments.append(segment)
        lines = result_lines(setup.out)  # as written, before the next --resume repairs the file
        counts = Counter(line.key for line in lines)
        run_twice += sum(n - 1 for n in counts.values() if n > 1)
        now = {line.key: line for line in lines}
        changed += sum(1 for k, line in committed.items() if now.get(k) != line)
        committed = now
    final = result_lines(setup.out)
    expected = {(f"soak-{t:02d}", c, "openai/scripted", trial) for t in range(n_tasks) for c in CONDITIONS
                for trial in range(setup.k)}
    got = {line.key for line in final}
    injected = Counter(" ".join(line.split()[1:]) for line in setup.ledger.read_text().splitlines())
    trials_dir = setup.out / "trials"
    return SoakReport(planned=planned, lost=len(expected - got), run_twice=run_twice, changed_by_resume=changed,
                      statuses=Counter(line.status for line in final),
                      attempts=sum(1 for p in trials_dir.iterdir() if p.is_dir()) if trials_dir.exists() else 0,
                      injected=injected, segments=segments,
                      state_dirs_left=len(sandbox_state_dirs() - state_dirs_before),
                      not_passed=Counter((line.status, exception_type(line.trial_dir)) for line in final
                                         if line.status != "pass"))


def exception_type(trial_dir: str) -> str | None:
    """The exception Harbor recorded for a trial (None: none, or no result.json: Harbor never got to write it)."""
    try:
        info = json.loads((Path(trial_dir) / "result.json").read_text()).get("exception_info") or {}
    except (OSError, ValueError):
        return None
    return info.get("exception_type")


def quarters(segments: list[Segment], planned: int) -> list[tuple[str, int, int]]:
    """Peak RSS (MiB) and peak fds of the eval process while each quarter of the trials was being done."""
    rows = []
    for q in range(4):
        lo, hi = planned * q // 4, planned * (q + 1) // 4
        window = [s for seg in segments for s in seg.samples if lo <= s.done < hi]
        if window:
            rows.append((f"{lo}-{hi}", max(s.rss_kb for s in window) // 1024, max(s.fds for s in window)))
    return rows


def print_report(report: SoakReport, setup: SoakSetup, student: BurstyStudent) -> None:
    samples = [s for seg in report.segments for s in seg.samples]
    last = report.segments[-1]
    steady = [s for s in last.samples if s.done > last.done_before]
    run_s = (steady[-1].t - steady[0].t) if len(steady) > 1 else 0.0
    steady_rate = (steady[-1].done - steady[0].done) / run_s if run_s else float("nan")
    print(f"soak: {report.planned} trials ({setup.k} per task and arm), -p {setup.parallelism}, "
          f"env {ENV_IMPORT_PATH}, {len(report.segments) - 1} kill -9 + --resume")
    print(f"machine: {platform.node()}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"trials lost: {report.lost}")
    print(f"trials run twice: {report.run_twice} (committed lines changed or dropped by a resume: "
          f"{report.changed_by_resume})")
    print(f"results by status: {dict(report.statuses)}; not passed, by (status, exception): "
          f"{dict(report.not_passed)}")
    print(f"trial attempts (trial dirs): {report.attempts} for {report.planned} results "
          f"(the rest: infra retries and trials cut off by a kill)")
    failed = {op: n for op, n in report.injected.items() if op.endswith("failed")}
    print(f"environment calls: {sum(report.injected.values())}, injected failures: {failed}")
    print(f"student endpoint answers: {dict(student.served)} (status: count; the burst is the 429/500)")
    for i, seg in enumerate(report.segments):
        peak_rss = max((s.rss_kb for s in seg.samples), default=0) // 1024
        peak_fds = max((s.fds for s in seg.samples), default=0)
        end = "killed" if seg.killed else "finished"
        print(f"  process {i + 1}: {seg.done_before} -> {seg.done_after} results in {seg.wall_s:.1f} s, {end}; "
              f"peak RSS {peak_rss} MiB, peak fds {peak_fds}; processes left behind: {len(seg.orphans)} "
              f"{sorted(set(seg.orphans))}")
    print(f"sandbox state folders left in {tempfile.gettempdir()} (trials cut off by a kill; other users' "
          f"sandboxes running at the end count too): {report.state_dirs_left}")
    print("peak RSS / fds of the eval process by trials done:")
    for window, rss, fds in quarters(report.segments, report.planned):
        print(f"  trials {window}: {rss} MiB, {fds} fds")
    print(f"peak RSS {max(s.rss_kb for s in samples) // 1024} MiB, peak open fds {max(s.fds for s in samples)}")
    print(f"throughput: {report.planned / report.wall_s:.2f} trials/s overall ({report.wall_s:.0f} s for "
          f"{report.planned} trials, restarts included); {steady_rate:.2f} trials/s in the last process's run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=300, help="planned trials (10 tasks x 2 arms x k)")
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.05, help="mean added latency per environment call (s)")
    parser.add_argument("--keep", type=Path, help="keep the eval's folder here (default: a temp dir, removed)")
    args = parser.parse_args()
    n_tasks = 10
    k = max(1, args.trials // (n_tasks * len(CONDITIONS)))
    work = Path(tempfile.mkdtemp(prefix="skillspark-soak-"))
    student = BurstyStudent(burst_after=max(20, k * n_tasks // 2), burst_s=4.0)
    try:
        with ScriptedOpenAIServer() as server, open(work / "eval.log", "ab") as log:
            server.responder = student
            setup = SoakSetup(out=work / "out", tasks=make_tasks(work / "tasks", n_tasks), k=k,
                              parallelism=args.parallelism, api_base=server.base_url, ledger=work / "ledger.txt",
                              seed=args.seed, latency_s=args.latency)
            report = soak(setup, n_tasks=n_tasks, kills=args.kills, seed=args.seed, log=log)
        print_report(report, setup, student)
    finally:
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
