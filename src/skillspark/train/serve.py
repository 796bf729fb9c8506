"""`train serve`: a trained checkpoint as an OpenAI-compatible chat endpoint on 127.0.0.1.

Why: a trained student should be judged by the same yardstick as any other model. Served this way,
`skillspark run` and `skillspark eval TASKS --model openai/NAME --api-base http://127.0.0.1:PORT/v1`
evaluate it on Harbor tasks with eval's statistics (Wilson intervals, paired bootstrap, exact tests).
One request is generated at a time (a lock): the point is fidelity, not serving throughput.
"""

from __future__ import annotations

import threading
import time
import uuid

from pydantic import BaseModel


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[ChatMessage]
    temperature: float = 0.0
    max_tokens: int = 256
    stop: list[str] | str | None = None


def _cut_at_stop(text: str, stop: list[str] | str | None) -> tuple[str, bool]:
    """The text up to the first stop string, and whether one was found."""
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    cuts = [text.index(s) for s in stops if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


def build_app(model, tokenizer, name: str):
    """The FastAPI app: GET /v1/models and POST /v1/chat/completions for one loaded policy."""
    import torch
    from fastapi import FastAPI

    from skillspark.train.rollout import generate

    app = FastAPI(title=f"skillspark student {name}")
    lock = threading.Lock()
    model.eval()

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "skillspark"}]}

    @app.post("/v1/chat/completions")
    def chat(request: ChatRequest) -> dict:
        messages = [m.model_dump() for m in request.messages]
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
        with lock, torch.no_grad():
            (response,) = generate(model, tokenizer, [prompt_ids], max_new_tokens=request.max_tokens,
                                   temperature=request.temperature, batch_size=1)
        text, stopped = _cut_at_stop(tokenizer.decode(response, skip_special_tokens=True), request.stop)
        ended = stopped or (response and response[-1] == tokenizer.eos_token_id)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop" if ended else "length"}],
            "usage": {"prompt_tokens": len(prompt_ids), "completion_tokens": len(response), "total_tokens": len(prompt_ids) + len(response)},
        }

    return app
