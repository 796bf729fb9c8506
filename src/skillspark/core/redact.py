"""Keep secrets out of everything we write or show: files, logs, trajectories, error messages.

Why a helper: provider errors echo request details back (sometimes the key itself, e.g. "Incorrect API
key provided: sk-..."), litellm exceptions carry them verbatim, and a model can echo the Authorization
header it was sent. The secrets known here are the values of secret-named environment variables (which
`.env` values join when they are loaded), every key the LLM client sends (`register_secret`), and
key-shaped tokens. The writers (`skillspark.files`), the model-response path of the client and the log
records (`install_log_redaction`) all pass their text through `redact()`, so no caller has to remember.
"""

from __future__ import annotations

import json
import logging
import os
import re

REDACTED = "[REDACTED]"

# Key-like tokens: OpenAI/Anthropic style `sk-...`, bearer headers, and a few well-known prefixes.
_TOKEN_PATTERNS = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{6,}"
    r"|(?i:bearer)\s+[A-Za-z0-9_\-\.=]{8,}"
    r"|\b(?:hf|gsk|xai|ghp|github_pat|pplx|nvapi)_[A-Za-z0-9_\-]{8,}"
    r"|\bAIza[0-9A-Za-z_\-]{20,}"
)
# Cheap substrings (of the lower-cased text) without which no token above can match: the regex runs only
# when one is present, since scanning a large trajectory with it costs far more than these searches.
_TOKEN_HINTS = ("sk-", "bearer", "hf_", "gsk_", "xai_", "ghp_", "github_pat_", "pplx_", "nvapi_", "aiza")
# Environment variables whose values are secrets wherever they show up (OPENAI_API_KEY, HF_TOKEN,
# AWS_SECRET_ACCESS_KEY, DB_PASSWORD, ...): the name is one of these or ends with `_` and one of these.
_SECRET_NAMES = ("API_KEY", "APIKEY", "TOKEN", "SECRET", "SECRET_KEY", "ACCESS_KEY", "PASSWORD")
_SECRET_SUFFIXES = tuple(f"_{name}" for name in _SECRET_NAMES)
_MIN_SECRET_LEN = 6  # shorter values ("x", "1") would redact ordinary text and protect nothing
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact `value` from now on in this process (a key the client sends, whatever variable held it)."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _registered.add(value)


def secret_env_values() -> list[str]:
    """Values of secret-named environment variables, longest first (so overlaps redact fully)."""
    values = {v for k, v in os.environ.items() if len(v) >= _MIN_SECRET_LEN and _is_secret_name(k)}
    return sorted(values, key=len, reverse=True)


def _is_secret_name(name: str) -> bool:
    upper = name.upper()
    return upper.endswith(_SECRET_SUFFIXES) or upper in _SECRET_NAMES


def _spellings(secrets: set[str]) -> list[str]:
    """Each secret as written raw and inside a JSON string (escaped quotes, backslashes, non-ASCII)."""
    spelled = set(secrets)
    for secret in secrets:
        spelled.add(json.dumps(secret)[1:-1])
        spelled.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    return sorted(spelled, key=len, reverse=True)


def redact(text: str, extra_secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Return `text` with every known secret, `extra_secrets` and key-like tokens replaced by [REDACTED]."""
    extra = {s for s in extra_secrets if s and len(s) >= _MIN_SECRET_LEN}
    for secret in _spellings({*secret_env_values(), *_registered, *extra}):
        if secret in text:
            text = text.replace(secret, REDACTED)
    lowered = text.lower()
    return _TOKEN_PATTERNS.sub(REDACTED, text) if any(hint in lowered for hint in _TOKEN_HINTS) else text


def one_line(text: str, limit: int = 300) -> str:
    """Redacted, whitespace-collapsed, truncated: the form every error message of ours takes."""
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def install_log_redaction() -> None:
    """Redact every log record of this process (ours, Harbor's, litellm's) as it is made; idempotent.

    Why the record factory: Harbor adds its own file handlers per trial (`trial.log`), so a filter on our
    handlers would miss them; the factory sees each record once, before any handler formats it.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts", False):
        return

    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed format is the handler's to report, as without us
            return record
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    make_record.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
