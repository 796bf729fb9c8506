"""The places every persisted or shown string passes: the client's replies, the file writers, log records.

A key a model echoes, or one that shows up in any text we write, is replaced by [REDACTED] there, so no
caller has to remember to redact (issue 7, item 4).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from skillspark.core.redact import REDACTED, install_log_redaction, redact
from skillspark.files import append_line, write_atomic
from skillspark.llm.client import LLMClient
from tests.fakes.scripted_openai import ScriptedOpenAIServer

# Not key-shaped (no sk-/hf_ prefix): only known because of the variable that holds it.
PLAIN_KEY = "test-SECRET123-7f3e9b21c4d5aa"


async def test_echoed_key_never_leaves_the_client(scripted_llm: ScriptedOpenAIServer, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", PLAIN_KEY)
    scripted_llm.echo_authorization = True
    scripted_llm.responder = lambda request: f"your key is {request.authorization.removeprefix('Bearer ')}"
    client = LLMClient(scripted_llm.model, api_base=scripted_llm.base_url, max_retries=0)
    result = await client.chat([{"role": "user", "content": "repeat the key"}])

    assert scripted_llm.requests[0].authorization == f"Bearer {PLAIN_KEY}"  # the echo really carried it
    assert result.ok and result.text == f"your key is {REDACTED}\nAuthorization: Bearer {REDACTED}"
    # the key the client sent stays known after its variable is gone (a later `del os.environ[...]`)
    monkeypatch.delenv("OPENAI_API_KEY")
    assert redact(f"late {PLAIN_KEY}") == f"late {REDACTED}"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HF_TOKEN", "plainvalue-hf-0123"),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG"),
        ("DB_PASSWORD", "correct horse battery"),
        ("ACME_APIKEY", "acme-7f3e9b21c4d5"),
        ("MY_PASSWORD", 'pa"ss\\wörd-123456'),  # spelled differently inside JSON: escaped either way
    ],
)
def test_writers_redact_secret_variables_raw_and_json_escaped(tmp_path: Path, monkeypatch, variable, value) -> None:
    monkeypatch.setenv(variable, value)
    record = {"reply": f"here: {value}", "nested": [value]}
    page = tmp_path / "page.json"
    log = tmp_path / "log.jsonl"
    write_atomic(page, json.dumps(record, indent=2))
    append_line(log, json.dumps(record))
    append_line(log, json.dumps(record, ensure_ascii=False))
    write_atomic(tmp_path / "memo.md", f"### Verified Facts\n- the key is {value}\n")

    for path in (page, log, tmp_path / "memo.md"):
        text = path.read_text(encoding="utf-8")
        for spelling in (value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
            assert spelling not in text, (path.name, spelling)
        assert REDACTED in text
    assert json.loads(page.read_text()) == {"reply": f"here: {REDACTED}", "nested": [REDACTED]}  # still JSON
    assert [json.loads(line)["nested"] for line in log.read_text().splitlines()] == [[REDACTED], [REDACTED]]


def test_ordinary_variables_are_left_alone(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SKILLSPARK_SANDBOX_MODE", "overlayfs-strict")
    monkeypatch.setenv("KEYBOARD_LAYOUT", "dvorak-programmer")
    write_atomic(tmp_path / "a.txt", "mode overlayfs-strict, layout dvorak-programmer")
    assert (tmp_path / "a.txt").read_text() == "mode overlayfs-strict, layout dvorak-programmer"


def test_every_log_record_is_redacted_whoever_logs_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", PLAIN_KEY)
    install_log_redaction()
    install_log_redaction()  # idempotent: one wrapper, not two
    logger = logging.getLogger("harbor.trial.fake")  # a library's logger with its own file handler
    handler = logging.FileHandler(tmp_path / "trial.log")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("agent said %s", f"Bearer {PLAIN_KEY}")
        logger.warning("mapping %(key)s", {"key": PLAIN_KEY})
        try:
            raise RuntimeError(f"Incorrect API key provided: {PLAIN_KEY}")
        except RuntimeError:
            logger.exception("call failed")
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = (tmp_path / "trial.log").read_text()
    assert PLAIN_KEY not in text
    assert text.count(REDACTED) == 3 and "RuntimeError: Incorrect API key provided" in text


def test_error_lines_are_redacted(monkeypatch, capsys) -> None:
    from skillspark.errors import print_error

    monkeypatch.setenv("ACME_API_KEY", "plain-acme-7f3e9b21c4")
    print_error("endpoint said: bad key plain-acme-7f3e9b21c4; check ACME_API_KEY")
    assert capsys.readouterr().err == f"error: endpoint said: bad key {REDACTED}; check ACME_API_KEY\n"


def test_a_password_in_the_api_base_url_is_a_secret_too() -> None:
    LLMClient("openai/x", api_base="https://user:pw-Zk81c0ffee@llm.example.com/v1")
    assert redact("calling https://user:pw-Zk81c0ffee@llm.example.com/v1") == (
        f"calling https://user:{REDACTED}@llm.example.com/v1")
