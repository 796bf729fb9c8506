"""The dashboard's guards, one ASGI middleware in front of every route (Inspect's `inspect view` model).

Why each one:
- Host allowlist: a DNS-rebinding page (attacker.example resolving to 127.0.0.1) sends its own name as
  Host; only the names this server was bound to (and loopback names) are answered.
- Mutations (anything but GET/HEAD/OPTIONS) need `Authorization: Bearer <token>`, compared in constant
  time, and a same-origin `Origin` / `Sec-Fetch-Site`: another site's page can neither launch nor cancel.
- A client that is not on loopback gets nothing without the token (no token configured: nothing at all).
- Every response says `Content-Security-Policy: default-src 'self'; frame-ancestors 'none'` and
  `nosniff`, so no injected script runs and no page can frame the dashboard.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
from pathlib import Path

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skillspark.errors import UserError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
MIN_TOKEN_CHARS = 16
PUBLIC_PATHS = ("/", "/static/app.js", "/static/app.css", "/favicon.ico")  # the app itself, no run data
CSP = ("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'; "
       "img-src 'self' data:")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token(path: Path) -> str:
    """The bearer token in `path` (first line, stripped); UserError when missing or too short."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise UserError(f"--token-file {path}: cannot read it ({why}); pass a file holding one token line") from None
    if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise UserError(f"--token-file {path}: the token must be one line of at least {MIN_TOKEN_CHARS} characters "
                        "without spaces; e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))' > F`")
    return token


def new_token() -> str:
    return secrets.token_urlsafe(32)


def check_bind(host: str, token_file: Path | None) -> None:
    """A non-loopback bind needs --token-file: the dashboard is not opened to a network without one."""
    if not is_loopback(host) and token_file is None:
        raise UserError(f"--host {host} is not a loopback address: pass --token-file F (a file holding the bearer "
                        "token) so that other machines must authenticate, or bind 127.0.0.1")


def allowed_hosts(bind: str, extra: list[str]) -> set[str]:
    """Host header names answered: loopback names, the bound address, and for a wildcard bind this machine's names."""
    names = {*LOOPBACK_NAMES, bind.strip("[]").lower(), *(e.lower() for e in extra)}
    if bind in ("0.0.0.0", "::", ""):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return names


def _host_name(host_header: str) -> str:
    """The name part of a Host header (`[::1]:8765` → `::1`, `example:80` → `example`)."""
    if host_header.startswith("["):
        return host_header[1:host_header.find("]")].lower() if "]" in host_header else ""
    return host_header.rsplit(":", 1)[0].lower() if host_header.count(":") == 1 else host_header.lower()


class Policy:
    """What the guard checks; `token` is the bearer token of this start."""

    def __init__(self, token: str, hosts: set[str], token_configured: bool):
        self.token = token.encode()
        self.hosts = hosts
        self.token_configured = token_configured

    def token_ok(self, headers: Headers) -> bool:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, reason) when the request must not reach the app; None when it may."""
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if _host_name(host) not in self.hosts:
            return 403, "Host header not allowed (DNS rebinding guard): open the dashboard by the address it printed"
        client = (scope.get("client") or ("", 0))[0]
        remote = not is_loopback(client or "127.0.0.1")
        if remote and not self.token_configured:
            return 403, "this dashboard answers loopback clients only (start it with --token-file to share it)"
        method = scope["method"]
        if method not in SAFE_METHODS:
            origin = headers.get("origin")
            scheme = scope.get("scheme", "http")
            if origin is not None and origin != f"{scheme}://{host}":
                return 403, "cross-origin request refused"
            if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                return 403, "cross-site request refused"
            if not self.token_ok(headers):
                return 401, "missing or wrong bearer token (use the URL the dashboard printed at start)"
        elif remote and scope["path"] not in PUBLIC_PATHS and not self.token_ok(headers):
            return 401, "missing or wrong bearer token (use the URL the dashboard printed at start)"
        return None


class GuardMiddleware:
    """Refuse what `Policy` refuses; add the security headers to every response."""

    def __init__(self, app: ASGIApp, policy: Policy):
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        refused = self.policy.refusal(scope)
        if refused is None:
            await self.app(scope, receive, send_with_headers)
            return
        status, reason = refused
        body = json.dumps({"detail": reason}).encode()
        await send_with_headers({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            *([(b"www-authenticate", b"Bearer")] if status == 401 else [])]})
        await send({"type": "http.response.body", "body": body})
