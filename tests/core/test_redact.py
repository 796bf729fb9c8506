"""Secrets never leave the LLM layer: redact() itself, and the client's errors, records and logs."""

from __future__ import annotations

import logging

import pytest

from skillspark.core.redact import REDACTED, one_line, redact
from skillspark.llm.client import LLMClient, LLMUnavailable
from tests.fakes.scripted_openai import ScriptedOpenAIServer

FAKE_OPENAI_KEY = "sk-test-Zq81xYv7Lm20PpQrSt"
FAKE_OTHER_KEY = "acme-7f3e9b21c4d5"  # not key-shaped: only known because ACME_API_KEY holds it


def test_redact_tokens_env_values_and_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", FAKE_OTHER_KEY)
    monkeypatch.setenv("SHORT_API_KEY", "x")  # too short to redact safely
    text = f"key {FAKE_OTHER_KEY}; Authorization: Bearer abcdefgh12345678; sk-proj-AAAAbbbb1111; hf_abcdefghijkl; x"
    assert redact(text) == f"key {REDACTED}; Authorization: {REDACTED}; {REDACTED}; {REDACTED}; x"
    assert redact("token=hunter2-secret", extra_secrets=["hunter2-secret"]) == f"token={REDACTED}"
    assert redact("sk-is fine, so is risk-taking") == "sk-is fine, so is risk-taking"


def test_one_line_flattens_and_truncates() -> None:
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line("x" * 50, limit=10) == "x" * 9 + "…"


async def test_keys_never_reach_errors_records_or_logs(
    scripted_llm: ScriptedOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_OPENAI_KEY)
    monkeypatch.setenv("ACME_API_KEY", FAKE_OTHER_KEY)
    leak = f"Incorrect API key provided: {FAKE_OPENAI_KEY} (also {FAKE_OTHER_KEY})"
    scripted_llm.push(status=500, error=leak)  # retried: the warning log line carries the reason
    scripted_llm.push(status=400, error=leak)  # not retried: ends the call (a 401 would not quote the reply)
    client = LLMClient(scripted_llm.model, api_base=scripted_llm.base_url, backoff_base_s=0.01)
    with caplog.at_level(logging.DEBUG), pytest.raises(LLMUnavailable) as caught:
        await client.chat([{"role": "user", "content": "hi"}])

    assert scripted_llm.requests[0].headers["authorization"] == f"Bearer {FAKE_OPENAI_KEY}"  # it was really used
    out = capsys.readouterr()
    surfaces = {
        "exception": str(caught.value),
        "records": "".join(r.model_dump_json() for r in client.records),
        "log": caplog.text,
        "stdout+stderr": out.out + out.err,
    }
    assert "Incorrect API key provided" in surfaces["exception"] and REDACTED in surfaces["exception"]
    assert "retrying" in surfaces["log"]
    for name, text in surfaces.items():
        assert FAKE_OPENAI_KEY not in text, name
        assert FAKE_OTHER_KEY not in text, name
