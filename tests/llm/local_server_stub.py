"""A stand-in for `python -m llama_cpp.server` in tests: answers `GET /v1/models` as `smollm2` on `--port`
and every chat completion with "stub", until killed. `--completion-delay S` makes each completion take S
seconds while holding the one lock that /v1/models also needs, as llama.cpp's server does.

Why: the lease and watchdog machinery (`llm.leases`, `llm.watched_server`) then runs with real client and
server processes in about a second; the slow tests do the same with the real llama.cpp server.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = {"object": "list", "data": [{"id": "smollm2", "object": "model"}]}
COMPLETION = {"id": "stub", "object": "chat.completion", "model": "smollm2",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "stub"}, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


LOCK = threading.Lock()  # llama.cpp's server serialises generations and /v1/models behind one lock
DELAY_S = 0.0


class Handler(BaseHTTPRequestHandler):
    def _send(self, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        with LOCK:
            self._send(MODELS)

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with LOCK:
            time.sleep(DELAY_S)
            self._send(COMPLETION)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        return


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--completion-delay", type=float, default=0.0)
    args = parser.parse_known_args()[0]
    DELAY_S = args.completion_delay
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
