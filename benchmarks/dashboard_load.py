"""`skillspark dashboard` under load: task-list latency on a 1,000-task run, SSE delivery delay, a 200 MB log.

Targets (issue 12): p95 of GET /api/runs/{id}/tasks <= 100 ms and SSE delivery <= 1 s, under 50 concurrent
loopback clients. The server is the real command (`skillspark dashboard DIR --port P`) in its own process;
the clients are one asyncio process with httpx. Every loop is bounded (requests per client, lines appended).
Run: `.venv/bin/python benchmarks/dashboard_load.py [--tasks 1000] [--clients 50] [--requests 20]
[--lines 20] [--big-mb 200]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def write_run(run: Path, n_tasks: int) -> None:
    """An explore run of n_tasks tasks, 3 attempts each (execution, snapshot, reflect), every 10th with a skill."""
    run.mkdir(parents=True)
    (run / "spend.json").write_text(json.dumps({"spent_usd": 1.25, "max_cost_usd": None}))
    for i in range(n_tasks):
        task = run / f"task-{i:04d}"
        task.mkdir()
        lines, attempts = [], []
        for k in range(3):
            status = "PASS" if (i % 10 == 0 and k == 2) else "FAIL"
            lines.append({"type": "execution_result", "attempt": k, "success": status == "PASS", "reward": float(status == "PASS"),
                          "status": status, "n_passed": 1, "n_tests": 2, "agent_commands": f"python3 solve.py --try {k}",
                          "agent_stdout_full": "output line\n" * 200, "test_stdout_full": "FAILED test_x\n" * 20,
                          "test_summary": "✗ test_x", "failed_tests": ["test_x"], "retry_injection": "memo\n" * 50})
            lines.append({"type": "pdi_snapshot", "attempt": k, "step": k, "proxy_exec": 0.5, "proxy_plan": 0.2 * k,
                          "proxy_oss": 0.1 * k, "raw_pdi": -k, "weight": min(1, k / 2), "weighted_pdi": -k * min(1, k / 2),
                          "triggered": k >= 1, "level": [None, "soft", "strong"][k]})
            lines.append({"type": "reflect_call", "attempt": k, "model": "m", "memo_before": "", "memo_after": f"memo v{k}",
                          "system_prompt": "s", "user_prompt": "u", "response": "r"})
            attempts.append({"attempt": k, "status": status, "reward": float(status == "PASS")})
        (task / "trajectory.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
        state = "solved" if i % 10 == 0 else ("running" if i % 7 == 0 else "exhausted")
        (task / "attempts.json").write_text(json.dumps({"task_name": task.name, "max_retries": 5, "attempts": attempts,
                                                        "state": state}))
        if i % 10 == 0:
            (task / "SKILL.md").write_text(f"---\nname: {task.name}\ndescription: d\n---\n# Skill\n")


def write_big_log(task: Path, megabytes: int) -> int:
    """A task whose trajectory.jsonl is about `megabytes` MB (lines of ~4 MB, as long agent outputs make)."""
    task.mkdir(parents=True)
    chunk = "x" * (2 * 2**20)
    with (task / "trajectory.jsonl").open("w") as handle:
        for k in range(max(1, megabytes // 4)):
            handle.write(json.dumps({"type": "execution_result", "attempt": k, "status": "FAIL", "reward": 0.0,
                                     "agent_stdout_full": chunk, "test_stdout_full": chunk}) + "\n")
    return (task / "trajectory.jsonl").stat().st_size


def start_server(root: Path) -> tuple[subprocess.Popen, str]:
    port_probe = __import__("socket").socket()
    port_probe.bind(("127.0.0.1", 0))
    port = port_probe.getsockname()[1]
    port_probe.close()
    process = subprocess.Popen([sys.executable, "-c", "from skillspark.cli import main; main()", "dashboard", str(root),
                                "--port", str(port)], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not re.match(r"dashboard: http://", line):
        raise SystemExit(f"the dashboard did not start: {line!r}")
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/api/info", timeout=1)
            return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the dashboard did not answer")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the server process has used so far (all its threads): unlike latency, this
    hardly depends on how many other programs share the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


errors: list[float] = []  # requests that failed on the transport (reported with the figures)


async def list_latency(base: str, rid: str, clients: int, requests: int, limit: int, every_s: float) -> list[float]:
    """Per-request seconds of GET /tasks by `clients` at once, `requests` each: one every `every_s` seconds
    (an open page reloading its table; starts spread over the interval), or back to back when 0."""
    times: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=clients)) as client:
        async def one(i: int) -> None:
            await asyncio.sleep(every_s * i / clients)
            for _ in range(requests):
                started = time.perf_counter()
                try:
                    response = await client.get(f"/api/runs/{rid}/tasks", params={"limit": limit})
                    response.raise_for_status()
                except httpx.TransportError:  # counted, then the next request (a dropped keep-alive socket)
                    errors.append(time.perf_counter() - started)
                    continue
                took = time.perf_counter() - started
                times.append(took)
                await asyncio.sleep(max(0.0, every_s - took))

        await asyncio.gather(*(one(i) for i in range(clients)))
    return times


def latency_line(label: str, times: list[float], seconds: float) -> str:
    failed = f", {len(errors)} transport errors" if errors else ""
    errors.clear()
    return (f"{label}: p50 {1000 * statistics.median(times):.1f} ms, p95 {1000 * pct(times, 0.95):.1f} ms, "
            f"max {1000 * max(times):.1f} ms, {len(times) / seconds:.0f} requests/s{failed}")


async def sse_delays(base: str, rid: str, task: str, log: Path, clients: int, lines: int) -> tuple[list[float], int]:
    """Seconds from each appended line's write to its arrival, at each of `clients` task streams."""
    from skillspark.files import append_line

    cursor = httpx.get(f"{base}/api/runs/{rid}/tasks/{task}", timeout=120).json()["cursor"]
    delays: list[float] = []
    connected = 0
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=clients + 5)) as client:
        async def listen() -> None:
            nonlocal connected
            got = 0
            async with client.stream("GET", "/api/events", params={"run": rid, "task": task},
                                     headers={"Last-Event-ID": cursor}) as response:
                connected += 1
                async for line in response.aiter_lines():
                    if line.startswith("data:") and '"pdi_snapshot"' in line:
                        record = json.loads(line[5:])
                        delays.append(time.time() - record["ts"])
                        got += 1
                        if got == lines:
                            return

        async def write() -> None:
            while connected < clients:
                await asyncio.sleep(0.05)
            for k in range(lines):
                await asyncio.sleep(0.2)
                append_line(log, json.dumps({"type": "pdi_snapshot", "attempt": 100 + k, "ts": time.time()}))

        await asyncio.wait_for(asyncio.gather(write(), *(listen() for _ in range(clients))), timeout=300)
    return delays, clients * lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="task-list requests per client")
    parser.add_argument("--lines", type=int, default=20, help="lines appended for the SSE delay")
    parser.add_argument("--big-mb", type=int, default=200, help="size of the large log (0: skip)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          f"(python {platform.python_version()})")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        write_run(root / "wide", args.tasks)
        print(f"fixture: {args.tasks} tasks written in {time.perf_counter() - started:.1f} s")
        process, base = start_server(root)
        try:
            started = time.perf_counter()
            rid = httpx.get(f"{base}/api/runs", timeout=120).json()[0]["id"]
            print(f"first GET /api/runs (cold: finds the run, reads every task's log once): "
                  f"{1000 * (time.perf_counter() - started):.0f} ms")
            for limit, every_s in ((200, 1.0), (1000, 1.0), (200, 0.0)):
                started, cpu = time.perf_counter(), cpu_seconds(process.pid)
                times = asyncio.run(list_latency(base, rid, args.clients, args.requests, limit, every_s))
                cpu = cpu_seconds(process.pid) - cpu
                pace = "1 request/s each" if every_s else "back to back (saturation)"
                print(latency_line(f"GET /api/runs/{{id}}/tasks?limit={limit}, {args.clients} clients x {args.requests}, "
                                   f"{pace}", times, time.perf_counter() - started)
                      + f", server CPU {1000 * cpu / len(times):.2f} ms/request"
                      + (" (target p95 <= 100 ms)" if every_s else ""))
            delays, expected = asyncio.run(sse_delays(base, rid, "task-0001", root / "wide" / "task-0001" / "trajectory.jsonl",
                                                      args.clients, args.lines))
            print(f"SSE delivery, {args.clients} clients x {args.lines} lines: {len(delays)}/{expected} delivered, "
                  f"p50 {1000 * statistics.median(delays):.0f} ms, p95 {1000 * pct(delays, 0.95):.0f} ms, "
                  f"max {1000 * max(delays):.0f} ms (target <= 1 s)")
            if args.big_mb:
                size = write_big_log(root / "wide" / "zz-big-log", args.big_mb)
                time.sleep(2.5)  # the run listing's cache expires, so the new task is listed
                for label in ("cold", "warm"):
                    started = time.perf_counter()
                    response = httpx.get(f"{base}/api/runs/{rid}/tasks/zz-big-log", timeout=300)
                    response.raise_for_status()
                    print(f"task page of a {size / 2**20:.0f} MB log ({label}): {1000 * (time.perf_counter() - started):.0f} ms, "
                          f"{len(response.content) / 1024:.0f} KiB sent")
                started = time.perf_counter()
                times = asyncio.run(list_latency(base, rid, args.clients, args.requests // 2 or 1, 200, 1.0))
                print(latency_line("task list with the big log in the run, 1 request/s each", times,
                                   time.perf_counter() - started))
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
