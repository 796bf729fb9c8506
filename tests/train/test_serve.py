"""A trained policy served as an OpenAI-compatible endpoint answers our own LLM client like any model."""

import asyncio
import socket
import threading
import time

import pytest
import uvicorn
from fastapi.testclient import TestClient

from skillspark.train.model import load_policy, tiny_random_model_dir
from skillspark.train.serve import _cut_at_stop, build_app


@pytest.fixture(scope="module")
def app():
    model, tokenizer = load_policy(tiny_random_model_dir(), seed=0)
    return build_app(model, tokenizer, "student")


def test_stop_strings_cut_the_text():
    assert _cut_at_stop("ls -la\nEND more", ["END", "\n"]) == ("ls -la", True)
    assert _cut_at_stop("ls", None) == ("ls", False)


def test_chat_completions_answer_in_openai_shape_with_token_counts(app):
    client = TestClient(app)
    assert client.get("/v1/models").json()["data"][0]["id"] == "student"
    body = {"messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 5, "temperature": 0}
    first = client.post("/v1/chat/completions", json=body).json()
    again = client.post("/v1/chat/completions", json=body).json()
    assert first["choices"][0]["message"]["role"] == "assistant"
    assert first["choices"][0]["message"]["content"] == again["choices"][0]["message"]["content"]  # greedy
    usage = first["usage"]
    assert 1 <= usage["completion_tokens"] <= 5 and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_our_llm_client_talks_to_the_served_student(app, monkeypatch):
    from skillspark.llm.client import LLMClient

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)

        async def ask():
            async with LLMClient("openai/student", api_base=f"http://127.0.0.1:{port}/v1", max_retries=0) as client:
                return await client.chat([{"role": "user", "content": "echo hi"}], max_tokens=4, temperature=0)

        result = asyncio.run(ask())
        assert result.attempts == 1 and result.model == "openai/student"
        if result.ok:  # a random model may write nothing printable: then the client says the output is empty
            assert result.completion_tokens >= 1 and result.prompt_tokens > 5
        else:
            assert "empty" in (result.error or "") or "malformed" in (result.error or "")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
