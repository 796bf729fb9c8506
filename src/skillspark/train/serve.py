"""`train serve`: a trained checkpoint as an OpenAI-compatible chat endpoint on 127.0.0.1.

Why: a trained student should be judged by the same yardstick as any other model. Served this way,
`skillspark run` and `skillspark eval TASKS --model openai/NAME --api-base http://127.0.0.1:PORT/v1`
evaluate it on Harbor tasks with eval's statistics (Wilson intervals, paired t intervals, exact tests).
One request is generated at a time (a lock): the point is fidelity, not serving throughput.

Because one request holds the model, none may hold it for nothing: generation stops between two
tokens when its client has gone, when the server is asked to stop (SIGTERM, Ctrl-C), or when the
request's token budget, capped by the model's context, is spent. A bad request is a 400 with one
line saying which field is wrong, never a 500.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

from fastapi import Request  # at module level: FastAPI resolves the endpoints' string annotations here
from pydantic import BaseModel, Field

MAX_TOKENS = 32768  # an upper bound before the model's own context length is known
DISCONNECT_POLL_S = 0.2


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=256, ge=1, le=MAX_TOKENS)
    stop: list[str] | str | None = None


def _cut_at_stop(text: str, stop: list[str] | str | None) -> tuple[str, bool]:
    """The text up to the first stop string, and whether one was found."""
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    cuts = [text.index(s) for s in stops if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


def _bad_request(message: str, status: int = 400):
    from fastapi.responses import JSONResponse

    kind = "invalid_request_error" if status == 400 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


def _field_errors(exc) -> str:
    """A request validation error as one line: `max_tokens: Input should be greater than or equal to 1`."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "body"
    return f"{where}: {first['msg']}"


def _generate(model, tokenizer, prompt_ids: list[int], request: ChatRequest, abandon: threading.Event) -> list[int]:
    """One response, stopped between two tokens once `abandon` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Abandoned(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs) -> torch.Tensor:
            return torch.full((input_ids.shape[0],), abandon.is_set(), dtype=torch.bool, device=input_ids.device)

    from skillspark.train.rollout import generate

    return generate(model, tokenizer, [prompt_ids], max_new_tokens=request.max_tokens,
                    temperature=request.temperature, batch_size=1,
                    stopping_criteria=StoppingCriteriaList([Abandoned()]))[0]


def build_app(model, tokenizer, name: str):
    """The FastAPI app: GET /v1/models and POST /v1/chat/completions for one loaded policy.

    `app.state.stopping` is set by `run_server` on SIGTERM/Ctrl-C: the generation in progress ends.
    """
    import torch
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError

    app = FastAPI(title=f"skillspark student {name}")
    app.state.stopping = threading.Event()
    lock = threading.Lock()
    context = int(getattr(model.config, "max_position_embeddings", 0) or MAX_TOKENS)
    model.eval()

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError):
        return _bad_request(_field_errors(exc))

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "skillspark"}]}

    def answer(prompt_ids: list[int], request: ChatRequest, abandon: threading.Event) -> list[int]:
        with lock, torch.no_grad():
            if abandon.is_set():
                return []
            return _generate(model, tokenizer, prompt_ids, request, abandon)

    @app.post("/v1/chat/completions")
    async def chat(request: ChatRequest, http: Request):
        messages = [m.model_dump() for m in request.messages]
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
        if len(prompt_ids) + request.max_tokens > context:
            return _bad_request(f"max_tokens: {request.max_tokens} new tokens after a prompt of {len(prompt_ids)} "
                                f"exceed the model's context of {context}; ask for at most {max(context - len(prompt_ids), 0)}")
        abandon = threading.Event()
        work = asyncio.ensure_future(asyncio.to_thread(answer, prompt_ids, request, abandon))
        while not work.done():
            await asyncio.wait([work], timeout=DISCONNECT_POLL_S)
            if app.state.stopping.is_set() or await http.is_disconnected():
                abandon.set()  # the lock is free again within one token
        response = await work
        if abandon.is_set():
            return _bad_request("the request was abandoned: its client left or the server is stopping", 503)
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


def run_server(app, port: int) -> None:
    """uvicorn on 127.0.0.1; SIGTERM or Ctrl-C also ends the generation in progress, so the server stops."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            app.state.stopping.set()
            super().handle_exit(sig, frame)

    Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5)).run()
