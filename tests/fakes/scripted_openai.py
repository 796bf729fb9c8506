"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, for deterministic offline tests.

Why: every part of skillspark that calls a model (client, agent, memo summarizer, distiller) must be
tested against real HTTP (litellm, the OpenAI SDK, retries, timeouts) without a real model. This server
answers `POST /v1/chat/completions` from a script you control and records every request.

Usage (the pytest fixture `scripted_llm` in tests/conftest.py starts and stops one for you)::

    server.push(text="hello")                  # a normal completion
    server.push(text="hi", prompt_tokens=7, completion_tokens=2, finish_reason="length")
    server.push(status=500)                    # an HTTP error (OpenAI-style JSON error body)
    server.push(status=429, error="slow down") # error with your message
    server.push(raw="garbage{")                # a 200 whose body is not JSON at all
    server.push(body={"choices": []})          # a 200 with any JSON body you like
    server.push(text="late", delay=2.0)        # answer after a delay (for timeouts)
    server.responder = lambda req: Reply(text=f"saw {len(req.messages)} messages")
    server.echo_authorization = True           # echo mode: every text reply ends with the Authorization
                                               # header the client sent (a model repeating its key)
    server.requests[-1].authorization          # that header ("Bearer <key>"), for responders that place it
    server.requests[-1].messages               # what the client sent (list of {"role", "content"})
    server.base_url                            # "http://127.0.0.1:PORT/v1"
    server.model                               # litellm model string to use: "openai/scripted"

Order of answers: queued replies first (FIFO); when the queue is empty, `responder(request)` if set
(it may return a `Reply` or a plain string); otherwise HTTP 400 "no reply queued" (not retried by
clients, so a test that forgot to script a reply fails fast with a clear message).
`GET /v1/models` lists one model, `scripted` (or `ScriptedOpenAIServer(model_id=...)`).
Requests with `"stream": true` get a server-sent-event stream of the same reply.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "scripted"


@dataclass
class Reply:
    """One scripted answer. With only `text`, a well-formed chat completion is sent."""

    text: str | None = ""
    status: int = 200
    error: str | None = None
    raw: str | None = None
    body: dict[str, Any] | None = None
    delay: float = 0.0
    prompt_tokens: int = 10
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptedRequest:
    """What the client sent: method, path, headers, parsed JSON body (None if not JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])

    @property
    def authorization(self) -> str:
        """The Authorization header as sent ('' without one); header names are case-insensitive."""
        return next((v for k, v in self.headers.items() if k.lower() == "authorization"), "")

    @property
    def last_user_text(self) -> str:
        users = [m for m in self.messages if m.get("role") == "user"]
        return str(users[-1].get("content", "")) if users else ""


def _completion_body(reply: Reply) -> dict[str, Any]:
    text = reply.text or ""
    completion_tokens = reply.completion_tokens
    if completion_tokens is None:
        completion_tokens = len(text.split())
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": reply.prompt_tokens + completion_tokens,
        },
    }


def _error_body(reply: Reply) -> dict[str, Any]:
    message = reply.error or f"scripted error {reply.status}"
    return {"error": {"message": message, "type": "scripted_error", "code": reply.status}}


def _stream_events(reply: Reply) -> list[dict[str, Any]]:
    full = _completion_body(reply)
    base = {k: full[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    content = {"index": 0, "delta": {"role": "assistant", "content": reply.text or ""}, "finish_reason": None}
    done = {"index": 0, "delta": {}, "finish_reason": reply.finish_reason}
    return [base | {"choices": [content]}, base | {"choices": [done], "usage": full["usage"]}]


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up (a timeout test) leaves a broken pipe: expected, so not printed."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ScriptedOpenAIServer:
    """The server object; see the module docstring. Use as a context manager or call start()/stop()."""

    def __init__(self, model_id: str = MODEL_ID) -> None:
        self.model_id = model_id
        self.model = f"openai/{model_id}"
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.responder: Callable[[ScriptedRequest], Reply | str] | None = None
        self.requests: list[ScriptedRequest] = []
        self.echo_authorization = False
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- script -----------------------------------------------------------------------------
    def push(self, text: str | None = "", **kwargs: Any) -> Reply:
        """Queue one reply (keyword arguments are the fields of `Reply`); returns it."""
        reply = Reply(text=text, **kwargs)
        with self._lock:
            self._queue.append(reply)
        return reply

    def pending(self) -> int:
        """Number of queued replies not yet served."""
        with self._lock:
            return len(self._queue)

    def _next_reply(self, request: ScriptedRequest) -> Reply:
        reply = self._scripted_reply(request)
        if self.echo_authorization and reply.status < 400 and reply.raw is None and reply.body is None:
            reply = replace(reply, text=f"{reply.text or ''}\nAuthorization: {request.authorization}")
        return reply

    def _scripted_reply(self, request: ScriptedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            answer = self.responder(request)
            return Reply(text=answer) if isinstance(answer, str) else answer
        return Reply(status=400, error="scripted_openai: no reply queued (call server.push or set server.responder)")

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("scripted server is not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedOpenAIServer:
        handler = _make_handler(self)
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_handler(server: ScriptedOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            return

        def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            if self.path.rstrip("/").endswith("/models"):
                body = {"object": "list", "data": [{"id": server.model_id, "object": "model", "owned_by": "scripted"}]}
                self._send(200, json.dumps(body).encode(), "application/json", {})
            else:
                self._send(404, b'{"error": {"message": "not found"}}', "application/json", {})

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length)
            try:
                body = json.loads(data or b"null")
            except json.JSONDecodeError:
                body = None
            request = ScriptedRequest("POST", self.path, dict(self.headers.items()), body)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, b'{"error": {"message": "not found"}}', "application/json", {})
                return
            reply = server._next_reply(request)
            if reply.delay:
                time.sleep(reply.delay)
            self._answer(reply, stream=bool((body or {}).get("stream")))

        def _answer(self, reply: Reply, *, stream: bool) -> None:
            if reply.raw is not None:
                self._send(reply.status, reply.raw.encode(), "application/json", reply.headers)
            elif reply.status >= 400:
                self._send(reply.status, json.dumps(_error_body(reply)).encode(), "application/json", reply.headers)
            elif reply.body is not None:
                self._send(reply.status, json.dumps(reply.body).encode(), "application/json", reply.headers)
            elif stream:
                events = "".join(f"data: {json.dumps(e)}\n\n" for e in _stream_events(reply)) + "data: [DONE]\n\n"
                self._send(200, events.encode(), "text/event-stream", reply.headers)
            else:
                self._send(200, json.dumps(_completion_body(reply)).encode(), "application/json", reply.headers)

    return Handler
