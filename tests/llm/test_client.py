"""LLMClient against the scripted server over real HTTP through litellm: retries, give-up, bad output,
records, cost and budget."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from skillspark.llm.client import AuthenticationFailed, Budget, BudgetExceeded, LLMClient, LLMUnavailable
from skillspark.llm.records import CallRecord, jsonl_recorder
from tests.fakes.scripted_openai import ScriptedOpenAIServer

HELLO = [{"role": "user", "content": "hello"}]


def client_for(server: ScriptedOpenAIServer, model: str | None = None, **kwargs) -> LLMClient:
    kwargs.setdefault("backoff_base_s", 0.01)
    return LLMClient(model or server.model, api_base=server.base_url, **kwargs)


async def test_success_carries_text_tokens_and_record(scripted_llm: ScriptedOpenAIServer) -> None:
    scripted_llm.push(text="the answer", prompt_tokens=12, completion_tokens=3)
    seen: list[CallRecord] = []
    client = client_for(scripted_llm, on_record=seen.append, temperature=0.7, max_tokens=55)
    result = await client.chat(HELLO)
    assert (result.ok, result.text, result.prompt_tokens, result.completion_tokens) == (True, "the answer", 12, 3)
    assert result.attempts == 1 and result.finish_reason == "stop"
    assert result.cost_usd is None  # litellm has no price for a self-hosted "scripted" model
    assert seen == client.records and len(seen) == 1 and seen[0].ok
    sent = scripted_llm.requests[0].body
    assert sent["messages"] == HELLO and sent["temperature"] == 0.7 and sent["max_tokens"] == 55


@pytest.mark.parametrize("status", [500, 429, 503])
async def test_retries_transient_errors_then_succeeds(scripted_llm: ScriptedOpenAIServer, status: int) -> None:
    scripted_llm.push(status=status)
    scripted_llm.push(status=status)
    scripted_llm.push(text="finally")
    client = client_for(scripted_llm, max_retries=3)
    result = await client.chat(HELLO)
    assert result.ok and result.text == "finally" and result.attempts == 3
    assert len(scripted_llm.requests) == 3
    assert client.records[-1].attempts == 3


async def test_timeout_is_retried(scripted_llm: ScriptedOpenAIServer) -> None:
    scripted_llm.push(text="too late", delay=1.5)
    scripted_llm.push(text="in time")
    result = await client_for(scripted_llm, timeout_s=0.5).chat(HELLO)
    assert result.ok and result.text == "in time" and result.attempts == 2


async def test_gives_up_after_max_retries(scripted_llm: ScriptedOpenAIServer) -> None:
    for _ in range(5):
        scripted_llm.push(status=500, error="upstream exploded")
    client = client_for(scripted_llm, max_retries=2)
    with pytest.raises(LLMUnavailable) as caught:
        await client.chat(HELLO)
    message = str(caught.value)
    assert "3 attempt(s)" in message and "upstream exploded" in message and scripted_llm.base_url in message
    assert "\n" not in message
    assert len(scripted_llm.requests) == 3 and scripted_llm.pending() == 2
    assert [(r.ok, r.attempts) for r in client.records] == [(False, 3)]


@pytest.mark.parametrize("status", [400, 404])
async def test_client_errors_are_not_retried(scripted_llm: ScriptedOpenAIServer, status: int) -> None:
    scripted_llm.push(status=status, error="nope")
    scripted_llm.push(text="never reached")
    with pytest.raises(LLMUnavailable, match="1 attempt"):
        await client_for(scripted_llm, max_retries=3).chat(HELLO)
    assert len(scripted_llm.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_fails_at_once_naming_the_variable(
    scripted_llm: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    key = "acme-7f3e9b21c4d5-secret"  # not key-shaped: only its registration keeps it out
    monkeypatch.setenv("OPENAI_API_KEY", key)
    scripted_llm.push(status=status, error=f"Incorrect API key provided: {key}")
    scripted_llm.push(text="never reached")
    client = client_for(scripted_llm, max_retries=3)
    with pytest.raises(AuthenticationFailed) as caught:
        await client.chat(HELLO)
    assert str(caught.value) == (
        f"authentication failed for model {scripted_llm.model} at {scripted_llm.base_url}: check OPENAI_API_KEY")
    assert not isinstance(caught.value, LLMUnavailable)  # the paths that go on past an unavailable model stop here
    assert len(scripted_llm.requests) == 1
    assert [(r.ok, r.attempts) for r in client.records] == [(False, 1)] and key not in client.records[0].error


async def test_unreachable_endpoint_names_the_endpoint() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    client = LLMClient("openai/anything", api_base=f"http://127.0.0.1:{port}/v1", max_retries=1, backoff_base_s=0.01)
    with pytest.raises(LLMUnavailable, match=f"127.0.0.1:{port}.*2 attempt"):
        await client.chat(HELLO)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"raw": "<<garbage>>"}, "malformed response"),
        ({"raw": ""}, "malformed response"),
        ({"raw": '{"foo": 1}'}, "malformed response"),
        ({"body": {"id": "x", "object": "chat.completion", "choices": []}}, "malformed response: no choices"),
        ({"text": ""}, "empty completion"),
        ({"text": "   \n"}, "empty completion"),
        ({"text": None}, "empty completion"),
    ],
)
async def test_bad_output_is_a_recorded_result(scripted_llm: ScriptedOpenAIServer, reply: dict, error: str) -> None:
    scripted_llm.push(**reply)
    client = client_for(scripted_llm)
    result = await client.chat(HELLO)
    assert not result.ok and result.text == "" and result.error.startswith(error)
    assert len(scripted_llm.requests) == 1  # bad output is an answer, not a transient failure
    assert client.records[-1].ok is False and client.records[-1].error == result.error


async def test_cost_from_litellm_price_table(scripted_llm: ScriptedOpenAIServer) -> None:
    # gpt-4o-mini: $0.15 per 1M input tokens, $0.60 per 1M output tokens
    # -> 1000 * 0.15e-6 + 500 * 0.60e-6 = 0.00015 + 0.0003 = 0.00045
    scripted_llm.push(text="x", prompt_tokens=1000, completion_tokens=500)
    result = await client_for(scripted_llm, model="openai/gpt-4o-mini").chat(HELLO)
    assert result.cost_usd == pytest.approx(0.00045)


async def test_budget_shared_between_clients_stops_before_the_call(scripted_llm: ScriptedOpenAIServer) -> None:
    scripted_llm.responder = lambda request: "ok"
    budget = Budget(max_cost_usd=0.0008)
    first = client_for(scripted_llm, model="openai/gpt-4o-mini", budget=budget)
    second = client_for(scripted_llm, model="openai/gpt-4o-mini", budget=budget)
    scripted_llm.push(text="a", prompt_tokens=1000, completion_tokens=500)  # $0.00045
    scripted_llm.push(text="b", prompt_tokens=1000, completion_tokens=500)  # total $0.0009 >= $0.0008
    assert (await first.chat(HELLO)).ok
    assert (await second.chat(HELLO)).ok
    assert budget.spent_usd == pytest.approx(0.0009) and budget.calls == 2 and budget.remaining_usd == 0.0
    with pytest.raises(BudgetExceeded, match="--max-cost"):
        await first.chat(HELLO)
    assert len(scripted_llm.requests) == 2  # the third call never left the machine


def test_budget_rejects_negative_limit_and_unlimited_counts() -> None:
    with pytest.raises(ValueError):
        Budget(-1)
    budget = Budget(None)
    budget.add(2.5)
    budget.add(None)
    budget.check()
    assert (budget.spent_usd, budget.calls, budget.remaining_usd) == (2.5, 2, None)


async def test_jsonl_recorder_appends_one_line_per_call(scripted_llm: ScriptedOpenAIServer, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "llm.jsonl"
    client = client_for(scripted_llm, on_record=jsonl_recorder(log))
    scripted_llm.push(text="one", prompt_tokens=4, completion_tokens=1)
    scripted_llm.push(text="")
    await client.chat(HELLO)
    await client.chat(HELLO)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(line["ok"], line["prompt_tokens"], line["error"]) for line in lines] == [
        (True, 4, None),
        (False, 0, "empty completion"),
    ]


async def test_local_model_sends_explicit_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedOpenAIServer(model_id="smollm2") as server:
        server.push(text="hi")
        client = LLMClient("local/smollm2", api_base=server.base_url, max_tokens=77, temperature=0.1)
        result = await client.chat(HELLO)
        body = server.requests[0].body
    assert result.ok and result.cost_usd == 0.0
    assert body["model"] == "smollm2"
    assert {k: body[k] for k in ("temperature", "max_tokens", "top_p", "top_k", "min_p", "repeat_penalty")} == {
        "temperature": 0.1, "max_tokens": 77, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1,
    }
