"""The dashboard's HTTP API and its one static page (FastAPI), over the runs found in the served folders.

Why sync route functions: reading a large log happens in FastAPI's thread pool, so one slow first read
never stalls the live streams or the other requests. The task list is the exception: fifty open pages
reload it every second, so a page whose listing is current is answered from memory on the event loop
before routing (`CachedTaskPages`: no validation, no thread hop), with an ETag. Every JSON body is redacted on its way out
(`SafeJSONResponse`), so an API key a model echoed into a log never reaches the browser.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from skillspark.core.redact import redact
from skillspark.core.skill import SKILL_FILE
from skillspark.dashboard.digest import clip_all
from skillspark.dashboard.evalview import EvalReader
from skillspark.dashboard.events import Event, int_cursor, pair_cursor, stream
from skillspark.dashboard.jobs import JobReader, TrialRow
from skillspark.dashboard.launch import LaunchError, Launcher, LaunchRequest
from skillspark.dashboard.runs import (
    RUNS_TTL_S,
    ExploreReader,
    Run,
    TaskRow,
    discover,
    explore_status,
    run_id,
)
from skillspark.dashboard.security import GuardMiddleware, Policy
from skillspark.dashboard.skills import SkillScores, eval_uses, skill_summary
from skillspark.dashboard.tail import TailCache
from skillspark.harbor.safe_read import TrialReader

STATIC = files("skillspark.dashboard") / "static"
MAX_EVENTS_PER_POLL = 500
TRIAL_STEPS_PAGE = 50
TRAJECTORY_MAX_BYTES = 64 * 2**20
PAGE_CACHE_SIZE = 256
TASKS_PATH = re.compile(r"/api/runs/([^/]+)/tasks")
PAGE_DEFAULTS = {"q": "", "status": "", "sort": "task", "order": "asc", "offset": "0", "limit": "200"}
SORT_KEYS = ("task", "status", "attempts", "reward", "pdi_snapshots", "pdi_level", "skill", "changed")


PageKey = tuple[str, str, str, str, str, int, int]  # run id, q, status, sort, order, offset, limit


def _tagged(body: bytes) -> tuple[bytes, str]:
    """A body with its ETag, so a page that reloads an unchanged table gets a 304 without the body."""
    return body, f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


class SafeJSONResponse(JSONResponse):
    """JSON with every configured secret and key-shaped token replaced by [REDACTED]."""

    def render(self, content: Any) -> bytes:
        return redact(json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))).encode()


class Dashboard:
    """The served folders, the readers of their runs, and the runs launched here."""

    def __init__(self, roots: list[Path], *, allow_launch: bool):
        self.roots = [r.resolve() for r in roots]
        self.allow_launch = allow_launch
        self.tails = TailCache()
        self.launcher = Launcher(self.roots)
        self.scores = SkillScores()
        self._runs: list[Run] = []
        self._runs_at = 0.0
        self._readers: dict[str, ExploreReader | EvalReader] = {}
        self.pages: dict[PageKey, tuple[list, bytes, str]] = {}  # task-list pages by query: listing, body, ETag
        self._lock = threading.Lock()
        self._runs_lock = threading.Lock()
        self._pages_lock = threading.Lock()
        self._summaries: list[dict[str, Any]] = []
        self._summaries_at = 0.0
        self._summaries_lock = threading.Lock()

    def runs(self) -> list[Run]:
        """The runs found, looked for again at most every RUNS_TTL_S (meanwhile others get the previous list)."""
        if time.monotonic() - self._runs_at < RUNS_TTL_S:
            return self._runs
        if not self._runs_lock.acquire(blocking=self._runs_at == 0.0):
            return self._runs
        try:
            if time.monotonic() - self._runs_at >= RUNS_TTL_S:
                found = {r.path: r for r in discover(self.roots)}
                for path, kind in self.launcher.launched().items():  # shown before its first line is written
                    found.setdefault(path, Run(id=run_id(path), kind=kind, name=path.name, path=path))
                self._runs, self._runs_at = sorted(found.values(), key=lambda r: str(r.path)), time.monotonic()
            return self._runs
        finally:
            self._runs_lock.release()

    def expire_runs(self) -> None:
        self._runs_at = self._summaries_at = 0.0

    def summaries(self) -> list[dict[str, Any]]:
        """Every run's summary, shared by /api/runs and every runs stream for RUNS_TTL_S / 2."""
        with self._summaries_lock:
            if time.monotonic() - self._summaries_at >= RUNS_TTL_S / 2:
                self._summaries = [self.summary(r) for r in self.runs()]
                self._summaries_at = time.monotonic()
            return self._summaries

    def run(self, rid: str) -> Run:
        run = next((r for r in self.runs() if r.id == rid), None)
        if run is None:
            raise HTTPException(404, f"no run {rid!r} under the served folders")
        return run

    def reader(self, run: Run) -> ExploreReader | EvalReader | JobReader:
        with self._lock:
            reader = self._readers.get(run.id)
            if reader is None or reader.run.kind != run.kind:
                reader = (EvalReader(run, self.tails) if run.kind == "eval" else JobReader(run) if run.kind == "harbor"
                          else ExploreReader(run, self.tails))
                self._readers[run.id] = reader
            return reader

    def explore(self, rid: str) -> ExploreReader:
        reader = self.reader(self.run(rid))
        if not isinstance(reader, ExploreReader):
            raise HTTPException(404, f"run {rid!r} is an {reader.run.kind} run: it has no explore task pages")
        return reader

    def task(self, rid: str, task: str) -> tuple[ExploreReader, str]:
        reader = self.explore(rid)
        if reader.task_dir(task) is None or reader.row(task) is None:
            raise HTTPException(404, f"run {rid!r} has no task {task!r}")
        return reader, task

    def task_page(self, key: PageKey) -> tuple[bytes, str]:
        """(body, ETag) of one task-list page; built once per listing and kept as bytes until the next."""
        rid, q, status, sort, order, offset, limit = key
        reader = self.reader(self.run(rid))
        if isinstance(reader, EvalReader):
            grid = reader.view()["grid"]
            picked = [g for g in grid if not q or q.lower() in g["task"].lower()]
            return _tagged(SafeJSONResponse({"total": len(picked), "offset": offset, "limit": limit,
                                             "tasks": picked[offset:offset + limit]}).body)
        rows = reader.rows()
        with self._pages_lock:  # concurrent requests for a page that just expired build it once
            cached = self.pages.get(key)
            if cached is None or cached[0] is not rows:
                body = SafeJSONResponse(_page(rows, q=q, status=status, sort=sort, order=order, offset=offset,
                                              limit=limit)).body
                if len(self.pages) >= PAGE_CACHE_SIZE:
                    self.pages.clear()
                cached = self.pages[key] = (rows, *_tagged(body))
        return cached[1], cached[2]

    def ready_page(self, key: PageKey) -> tuple[bytes, str] | None:
        """`task_page(key)` when it can be answered without touching the disk; None when it cannot."""
        if time.monotonic() - self._runs_at >= RUNS_TTL_S:
            return None
        run = next((r for r in self._runs if r.id == key[0]), None)
        reader = self._readers.get(key[0])
        if run is None or reader is None or isinstance(reader, EvalReader) or reader.run != run:
            return None
        rows = reader.fresh()
        cached = self.pages.get(key)
        return (cached[1], cached[2]) if rows is not None and cached is not None and cached[0] is rows else None

    def summary(self, run: Run) -> dict[str, Any]:
        reader = self.reader(run)
        alive = self.launcher.alive(run.path)
        base = {"id": run.id, "kind": run.kind, "name": run.name, "path": str(run.path), "launched": alive,
                "resumable": not alive and self.allow_launch and self.launcher.resumable(run.path)}
        if isinstance(reader, EvalReader):
            view = reader.view()
            return base | {"status": "running" if alive else reader.status(), "tasks": len(view["grid"]),
                           "trials_done": view["done"], "trials_total": view["total"], "cost_usd": view["cost_usd"],
                           "counts": {}, "updated_ns": reader.tail().mtime_ns}
        rows = reader.rows()
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        if isinstance(reader, JobReader):
            costs = [r.cost_usd for r in rows if r.cost_usd is not None]  # an unknown cost is not $0
            return base | {"status": "running" if alive else "finished", "tasks": len(rows), "counts": counts,
                           "cost_usd": sum(costs) if costs else None,
                           "updated_ns": max((r.changed for r in rows), default=0)}
        status = "running" if alive else explore_status(rows, time.time_ns())
        return base | {"status": status, "tasks": len(rows), "counts": counts, "cost_usd": reader.spent_usd(),
                       "skills": sum(r.skill for r in rows), "updated_ns": max((r.changed for r in rows), default=0)}


def _page(rows: list[TaskRow] | list[TrialRow], *, q: str, status: str, sort: str, order: str, offset: int,
          limit: int) -> dict:
    picked = [r for r in rows if (not q or q.lower() in r.task.lower()) and (not status or r.status == status)]
    if sort != "task":
        picked = sorted(picked, key=lambda r: (getattr(r, sort, None) is None, getattr(r, sort, None) or 0, r.task))
    if order == "desc":
        picked.reverse()
    return {"total": len(picked), "offset": offset, "limit": limit,
            "cursor": str(max((r.changed for r in rows), default=0)),
            "tasks": [r.model_dump() for r in picked[offset:offset + limit]]}


def _page_response(page: tuple[bytes, str], if_none_match: str) -> Response:
    body, etag = page
    headers = {"etag": etag, "cache-control": "no-cache"}
    if etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _page_key(rid: str, query: bytes) -> PageKey | None:
    """The task-page key of a query string as the route would read it; None when a number is not plain digits."""
    params = PAGE_DEFAULTS | dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    if not all(params[n].isascii() and params[n].isdigit() for n in ("offset", "limit")):
        return None
    return rid, params["q"], params["status"], params["sort"], params["order"], int(params["offset"]), int(params["limit"])


class CachedTaskPages:
    """ASGI: answers GET /api/runs/{id}/tasks on the event loop when `Dashboard.ready_page` holds the page.

    Why before routing: for a page already built, FastAPI's routing, parameter validation and thread hop
    cost more than the answer; fifty open pages ask every second. Only pages the route validated and
    built are held, so a miss, or any query the route would refuse, goes on to the route.
    """

    def __init__(self, app: ASGIApp, board: Dashboard):
        self.app = app
        self.board = board

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = TASKS_PATH.fullmatch(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        key = _page_key(match[1], scope["query_string"]) if match else None
        page = self.board.ready_page(key) if key else None
        if page is None:
            await self.app(scope, receive, send)
            return
        if_none_match = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"if-none-match"), "")
        await _page_response(page, if_none_match)(scope, receive, send)


def create_app(roots: list[Path], *, policy: Policy, allow_launch: bool = False, poll_s: float = 0.25,
               heartbeat_s: float = 15.0) -> FastAPI:
    """The dashboard app over `roots` behind `policy`'s guards."""
    board = Dashboard(roots, allow_launch=allow_launch)
    app = FastAPI(title="skillspark dashboard", default_response_class=SafeJSONResponse, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.board = board

    def static(name: str, media: str) -> Response:
        return Response((STATIC / name).read_bytes(), media_type=media, headers={"cache-control": "no-cache"})

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return static("index.html", "text/html; charset=utf-8")

    @app.get("/static/app.js", include_in_schema=False)
    def script() -> Response:
        return static("app.js", "text/javascript; charset=utf-8")

    @app.get("/static/app.css", include_in_schema=False)
    def style() -> Response:
        return static("app.css", "text/css; charset=utf-8")

    @app.get("/api/info")
    def info() -> Response:
        return SafeJSONResponse({"allow_launch": board.allow_launch, "roots": [str(r) for r in board.roots]})

    @app.get("/api/runs")
    def runs() -> Response:
        return SafeJSONResponse(board.summaries())

    @app.get("/api/runs/{rid}")
    def run(rid: str) -> Response:
        return SafeJSONResponse(board.summary(board.run(rid)))

    @app.get("/api/runs/{rid}/tasks")
    def tasks(request: Request, rid: str, q: str = "", status: str = "",
              sort: Literal[SORT_KEYS] = "task",  # type: ignore[valid-type]
              order: Literal["asc", "desc"] = "asc", offset: int = Query(0, ge=0),
              limit: int = Query(200, ge=1, le=1000)) -> Response:
        page = board.task_page((rid, q, status, sort, order, offset, limit))
        return _page_response(page, request.headers.get("if-none-match", ""))

    @app.get("/api/runs/{rid}/tasks/{task}")
    def task(rid: str, task: str) -> Response:
        reader, name = board.task(rid, task)
        detail = reader.detail(name)
        if detail["skill"] is not None:
            detail["skill"]["pdi"] = board.scores.of_run(reader).get(name)
        detail["cursor"] = f"{reader.tail(name).end}:{detail['row']['changed']}"
        return SafeJSONResponse(detail)

    @app.get("/api/runs/{rid}/tasks/{task}/records/{index}")
    def record(rid: str, task: str, index: int) -> Response:
        reader, name = board.task(rid, task)
        found = reader.tail(name).read_record(index)
        if found is None:
            raise HTTPException(404, f"task {task!r} has no readable record {index}")
        return SafeJSONResponse(clip_all(found))

    @app.get("/api/runs/{rid}/eval")
    def eval_view(rid: str) -> Response:
        reader = board.reader(board.run(rid))
        if not isinstance(reader, EvalReader):
            raise HTTPException(404, f"run {rid!r} is not an eval run")
        return SafeJSONResponse(reader.view())

    @app.get("/api/runs/{rid}/trials/{path:path}")
    def trial(rid: str, path: str, offset: int = Query(0, ge=0),
              limit: int = Query(TRIAL_STEPS_PAGE, ge=1, le=500)) -> Response:
        return SafeJSONResponse(_trial(board.run(rid), path, offset, limit))

    @app.get("/api/skills")
    def skills() -> Response:
        evals = [board.reader(r) for r in board.runs() if r.kind == "eval"]
        found = []
        for run in board.runs():
            reader = board.reader(run)
            if not isinstance(reader, ExploreReader):
                continue
            rows = [r for r in reader.rows() if r.skill]
            scores = board.scores.of_run(reader) if rows else {}
            for row in rows:
                text = TrialReader(run.path / row.task).text(SKILL_FILE) or ""
                found.append(skill_summary(reader, row.task, text, scores) | {
                    "problems": reader.skill_problems(row.task),
                    "evals": eval_uses(evals, str(run.path), row.task)})  # type: ignore[arg-type]
        return SafeJSONResponse(found)

    @app.get("/api/events")
    async def events(request: Request, run: str | None = None, task: str | None = None) -> StreamingResponse:
        source = _source(board, run, task)
        cursor = request.headers.get("last-event-id") or request.query_params.get("cursor")
        body = stream(source, cursor, poll_s=poll_s, heartbeat_s=heartbeat_s, disconnected=request.is_disconnected)
        return StreamingResponse(body, media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    def launch_guard() -> None:
        if not board.allow_launch:
            raise HTTPException(403, "actions are off: start the dashboard with --allow-launch")

    def acting(call):
        try:
            return call()
        except LaunchError as exc:
            raise HTTPException(exc.status, str(exc)) from None

    @app.post("/api/runs", status_code=202)
    def launch(request: LaunchRequest) -> dict:
        launch_guard()

        def go() -> dict:
            output, args, pid = board.launcher.start(request)
            board.expire_runs()  # listed at once, before its first line is written
            return {"id": run_id(output), "pid": pid, "output": str(output), "args": args}
        return acting(go)

    @app.post("/api/runs/{rid}/cancel", status_code=202)
    def cancel(rid: str) -> dict:
        launch_guard()
        target = board.run(rid)
        return acting(lambda: {"id": rid, "signalled": board.launcher.cancel(target.path)})

    @app.post("/api/runs/{rid}/resume", status_code=202)
    def resume(rid: str) -> dict:
        launch_guard()
        target = board.run(rid)
        return acting(lambda: {"id": rid, "pid": board.launcher.resume(target.path)})

    @app.post("/api/runs/{rid}/tasks/{task}/cancel", status_code=202)
    def cancel_task(rid: str, task: str) -> dict:
        launch_guard()
        reader, name = board.task(rid, task)
        if reader.run.kind != "explore":
            raise HTTPException(409, "only a skillspark explore run honours a task cancel")
        reader.request_cancel(name)
        return {"id": rid, "task": name, "cancel_requested": True}

    app.add_middleware(CachedTaskPages, board=board)  # inside the guard: refused requests never reach it
    app.add_middleware(GuardMiddleware, policy=policy)
    return app


def _trial(run: Run, path: str, offset: int, limit: int) -> dict:
    """One Harbor trial under the run folder: result, reward, verifier output and a page of ATIF steps."""
    parts = Path(path).parts
    if not parts or Path(path).is_absolute() or any(p in ("..", ".") for p in parts) or "\x00" in path:
        raise HTTPException(400, "a trial path is a plain path relative to its run folder")
    files = TrialReader(run.path)
    result = files.json(f"{path}/result.json")
    trajectory = files.json(f"{path}/agent/trajectory.json", TRAJECTORY_MAX_BYTES)
    if result is None and trajectory is None:
        raise HTTPException(404, f"no readable trial at {path!r} in run {run.id!r}"
                            + (f" ({'; '.join(files.skipped)})" if files.skipped else ""))
    steps = trajectory.get("steps") if isinstance(trajectory, dict) else None
    steps = steps if isinstance(steps, list) else []
    verifier = result.get("verifier_result") if isinstance(result, dict) else None
    return clip_all({
        "run": run.id, "path": path,
        "task_name": result.get("task_name") if isinstance(result, dict) else None,
        "rewards": verifier.get("rewards") if isinstance(verifier, dict) else None,
        "exception": result.get("exception_info") if isinstance(result, dict) else None,
        "agent": trajectory.get("agent") if isinstance(trajectory, dict) else None,
        "steps_total": len(steps), "offset": offset, "steps": steps[offset:offset + limit],
        "verifier_stdout": files.text_tail(f"{path}/verifier/test-stdout.txt", 64_000),
        "ctrf": files.json(f"{path}/verifier/ctrf.json"),
        "refused": files.skipped,
    }, 32_000)


def _source(board: Dashboard, rid: str | None, task: str | None):
    """The event source of one stream scope: all runs, one run's rows or results, or one task's records."""
    if rid is None:
        def runs_source(cursor: str | None) -> tuple[list[Event], str | None]:
            runs = board.summaries()
            digest = str(hash(json.dumps(runs, sort_keys=True, default=str)))
            return ([("runs", {"runs": runs}, None)] if digest != cursor else []), digest
        return runs_source
    reader = board.reader(board.run(rid))
    if isinstance(reader, EvalReader):
        def results_source(cursor: str | None) -> tuple[list[Event], str | None]:
            tail = reader.tail()
            lines = tail.after(int_cursor(cursor, tail.end))[1][:MAX_EVENTS_PER_POLL]
            events = [("result", line.digest, str(line.end)) for line in lines if line.digest.get("type") == "result"]
            return events, str(lines[-1].end) if lines else cursor or str(tail.end)
        return results_source
    if task is None:
        def rows_source(cursor: str | None) -> tuple[list[Event], str | None]:
            rows = reader.rows()
            since = int_cursor(cursor, max((r.changed for r in rows), default=0))
            changed = sorted((r for r in rows if r.changed > since), key=lambda r: r.changed)
            newest = max((r.changed for r in changed), default=since)
            return [("row", r.model_dump(), str(r.changed)) for r in changed], str(newest)
        return rows_source
    _, name = board.task(rid, task)

    def task_source(cursor: str | None) -> tuple[list[Event], str | None]:
        tail = reader.tail(name)
        row = reader.row(name)
        offset, seen = pair_cursor(cursor) if cursor else (tail.end, row.changed if row else 0)
        first, lines = tail.after(offset)
        lines = lines[:MAX_EVENTS_PER_POLL]
        events: list[Event] = [("record", line.digest | {"line": first + i}, f"{line.end}:{seen}")
                               for i, line in enumerate(lines)]
        offset = lines[-1].end if lines else offset
        if row is not None and row.changed > seen:
            seen = row.changed
            events.append(("row", row.model_dump(), f"{offset}:{seen}"))
        return events, f"{offset}:{seen}"
    return task_source
