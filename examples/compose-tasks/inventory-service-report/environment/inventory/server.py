"""A small inventory API: /health, and /items?page=N (JSON pages of generated stock records)."""

import json
import os
import random
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CATEGORIES = ["garden", "kitchen", "tools"]


def inventory(seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [{"sku": f"SKU-{n:03d}", "category": rng.choice(CATEGORIES), "units": rng.randint(0, 60)}
            for n in range(1, 41)]


ITEMS = inventory(int(os.environ["INVENTORY_SEED"]))
PAGE_SIZE = int(os.environ.get("INVENTORY_PAGE_SIZE", "10"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/health":
            return self._send(200, {"status": "ok"})
        if url.path != "/items":
            return self._send(404, {"error": "not found"})
        page = int(parse_qs(url.query).get("page", ["1"])[0])
        start = (page - 1) * PAGE_SIZE
        more = start + PAGE_SIZE < len(ITEMS)
        self._send(200, {"page": page, "items": ITEMS[start:start + PAGE_SIZE], "next_page": page + 1 if more else None})

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", int(os.environ["INVENTORY_PORT"])), Handler).serve_forever()
