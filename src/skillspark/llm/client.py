"""One async way to call any model: litellm underneath, our retries, records, budget and redaction.

Why our own retries: we want one policy for every provider (backoff with jitter on 429, 5xx, timeouts
and dropped connections; never on 400/401/403), every attempt counted in the call record, and one clear
redacted line when we give up. litellm's and the OpenAI SDK's own retries are switched off. A 401/403 is
`AuthenticationFailed`: the key is wrong for every later call too, so callers stop rather than go on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlsplit

from skillspark.core.redact import install_log_redaction, one_line, redact, register_secret
from skillspark.llm.budget import Budget
from skillspark.llm.errors import AuthenticationFailed, BudgetExceeded, LLMUnavailable
from skillspark.llm.models import check_credentials, import_litellm, resolve_model
from skillspark.llm.records import CallRecord, ChatResult
from skillspark.llm.structured import JsonSchema, Route

__all__ = ["AuthenticationFailed", "Budget", "BudgetExceeded", "ChatResult", "CallRecord", "LLMClient",
           "LLMUnavailable"]

log = logging.getLogger("skillspark.llm")

_NO_KEY = "no-key-required"  # OpenAI-compatible servers without auth still need a non-empty key field
_RETRY_STATUS = {408, 409, 425, 429}
_AUTH_STATUS = {401, 403}
_MALFORMED_MARKERS = ("JSONDecodeError", "Expecting value", "Invalid response object", "no 'choices'")
_REFUSED_FORMAT_STATUS = {400, 422}  # how an endpoint says it does not take our response_format


class _Outcome(Exception):
    """Internal: an attempt ended with a result that is final (ok or not) without retrying."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _classify(exc: Exception, litellm: Any) -> str:
    """'retry', 'output' (malformed answer: recorded, not retried), 'context', 'auth' or 'fatal'."""
    if getattr(exc, "status_code", None) in _AUTH_STATUS:
        return "auth"
    if isinstance(exc, litellm.ContextWindowExceededError):
        return "context"
    if isinstance(exc, (litellm.Timeout, litellm.APIConnectionError, litellm.RateLimitError)):
        return "retry" if not _looks_malformed(exc) else "output"
    if isinstance(exc, litellm.APIResponseValidationError):
        return "output"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and (status in _RETRY_STATUS or status >= 500):
        return "output" if _looks_malformed(exc) else "retry"
    return "fatal"


def _looks_malformed(exc: Exception) -> bool:
    """litellm reports an unparseable 200 body as a generic error; recognise it by its parse failure."""
    text = str(exc)
    return any(marker in text for marker in _MALFORMED_MARKERS)


def _route_for(litellm_model: str, is_local: bool, custom_endpoint: bool) -> Route:
    if is_local:
        return "grammar"
    litellm = import_litellm()
    try:
        litellm.get_model_info(model=litellm_model)
    except Exception:  # noqa: BLE001 - litellm raises a plain Exception for a model it has no entry for
        return "schema" if custom_endpoint else "tolerant"
    if litellm.supports_response_schema(model=litellm_model):
        return "schema"
    try:
        params = litellm.get_supported_openai_params(model=litellm_model) or []
    except Exception:  # noqa: BLE001 - unknown provider: nothing is known to be supported
        params = []
    return "json_object" if "response_format" in params else "tolerant"


def _refused_format(exc: Exception, kind: str, litellm: Any) -> bool:
    """An endpoint's 400/422 (or litellm's own refusal) to a request carrying response_format."""
    if isinstance(exc, getattr(litellm, "UnsupportedParamsError", ())):
        return True
    return kind == "fatal" and getattr(exc, "status_code", None) in _REFUSED_FORMAT_STATUS


class LLMClient:
    """Chat with one model. `async with LLMClient(...) as c: r = await c.chat(messages)`.

    `local/smollm2` starts (or reuses) the embedded server on first use; `aclose()` stops what it started.
    Every call appends a `CallRecord` to `records` and passes it to `on_record`.
    """

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        max_retries: int = 4,
        timeout_s: float = 120,
        temperature: float = 0.2,
        max_tokens: int = 1024,
        budget: Budget | None = None,
        on_record: Callable[[CallRecord], None] | None = None,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 30.0,
    ) -> None:
        self.resolved = resolve_model(model, api_base)
        self.model = model
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.budget = budget
        self.on_record = on_record
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.records: list[CallRecord] = []
        self._route: Route | None = None  # chosen on the first JSON call (`structured_route`)
        self._route_fallback = False  # the endpoint refused a response_format: later calls go without one
        self._api_base = self.resolved.api_base
        self._ready = False
        install_log_redaction()
        register_secret(urlsplit(self._api_base or "").password)  # https://user:PASSWORD@host/v1 (--api-base)
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the embedded server if this client started it."""
        await self._stack.aclose()
        self._ready = False

    @property
    def api_base(self) -> str | None:
        return self._api_base

    async def _prepare(self) -> None:
        if self._ready:
            return
        if self.resolved.is_local and self._api_base is None:
            from skillspark.llm.local_server import local_model_endpoint

            self._api_base = await self._stack.enter_async_context(local_model_endpoint())
        self._check_key()
        self._ready = True

    def _check_key(self) -> None:
        """Name a missing key variable before the first call (its value is never shown)."""
        if not self._api_base:
            check_credentials(self.resolved)

    def _request(self, messages: list[dict[str, Any]], temperature: float | None, max_tokens: int | None,
                 stop: list[str] | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.resolved.litellm_model,
            "messages": messages,
            "temperature": self.temperature if temperature is None else temperature,
            "max_tokens": self.max_tokens if max_tokens is None else max_tokens,
            "timeout": self.timeout_s,
            "num_retries": 0,
            "max_retries": 0,
        }
        key = os.environ.get(self.resolved.api_key_env or "OPENAI_API_KEY")
        register_secret(key)  # whatever the model echoes back of it is redacted before anyone sees it
        if self._api_base:
            request["api_base"] = self._api_base
            request["api_key"] = key or _NO_KEY
        if self.resolved.extra_body:
            request["top_p"] = self.resolved.extra_body["top_p"]
            request["extra_body"] = {k: v for k, v in self.resolved.extra_body.items() if k != "top_p"}
        if stop:
            request["stop"] = stop
        return request

    def structured_route(self) -> Route:
        """How this model is asked for JSON: the embedded server by grammar; a model litellm knows to take
        JSON schemas by schema; one litellm does not know, behind a custom endpoint (vLLM, a proxy), by
        schema too (a refusal falls back); a known model without schema support by plain JSON mode where
        it has one, else by prompt alone (the tolerant parser reads the answer)."""
        if self._route is None:
            self._route = _route_for(self.resolved.litellm_model, self.resolved.is_local, bool(self._api_base))
        return self._route

    def _backoff(self, attempt: int, exc: Exception) -> float:
        """Exponential backoff with equal jitter; a server's Retry-After wins when it is larger."""
        cap = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        delay = cap / 2 + random.uniform(0, cap / 2)
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        try:
            delay = max(delay, min(self.backoff_max_s, float(headers.get("retry-after", 0))))
        except (TypeError, ValueError):
            pass
        return delay

    async def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
        schema: JsonSchema | None = None,
    ) -> ChatResult:
        """One completion. Empty/malformed output -> ok=False; unreachable after retries -> LLMUnavailable.

        With `schema`, the answer is asked for as JSON of that schema by the route `structured_route`
        picks; an endpoint that refuses the response_format is asked again without it (route "tolerant",
        `route_fallback` set). The caller still parses (`structured.loads_object`) and validates the text.
        """
        if self.budget is not None:
            self.budget.check()
        await self._prepare()
        litellm = import_litellm()
        request = self._request(messages, temperature, max_tokens, stop)
        route: Route | None = self.structured_route() if schema is not None else None
        fallback = self._route_fallback and schema is not None
        if schema is not None and (response_format := schema.response_format(route)) is not None:
            request["response_format"] = response_format
        started = time.monotonic()
        attempt = 0

        def finish(result: ChatResult) -> ChatResult:  # every outcome carries the route it was asked by
            result.route, result.route_fallback = route, fallback
            return self._finish(result, attempt, started)

        while True:
            attempt += 1
            try:
                response = await litellm.acompletion(**request)
                return finish(self._parse(response, litellm))
            except _Outcome as outcome:
                return finish(ChatResult(ok=False, error=outcome.error, model=self.model))
            except Exception as exc:  # noqa: BLE001 - every provider error is classified below
                kind = _classify(exc, litellm)
                reason = self._reason(exc)
                if "response_format" in request and _refused_format(exc, kind, litellm):
                    log.warning("model %s refused response_format (%s); asking without it", self.model, reason)
                    del request["response_format"]
                    self._route, self._route_fallback = "tolerant", True
                    route, fallback = self._route, True
                    continue
                if kind in ("output", "context"):
                    error = "context window exceeded" if kind == "context" else f"malformed response: {reason}"
                    return finish(ChatResult(ok=False, error=one_line(error), model=self.model))
                if kind == "retry" and attempt <= self.max_retries:
                    delay = self._backoff(attempt, exc)
                    log.warning(
                        "model %s attempt %d failed (%s); retrying in %.2fs", self.model, attempt, reason, delay
                    )
                    await asyncio.sleep(delay)
                    continue
                finish(ChatResult(ok=False, error=reason, model=self.model))
                if kind == "auth":
                    raise AuthenticationFailed(self._auth_message()) from None
                raise LLMUnavailable(self._give_up_message(reason, attempt)) from None

    def _reason(self, exc: Exception) -> str:
        status = getattr(exc, "status_code", None)
        prefix = f"{type(exc).__name__}" + (f" {status}" if isinstance(status, int) else "")
        return one_line(f"{prefix}: {exc}", limit=240)

    def _auth_message(self) -> str:
        """Names the key variable, never its value (nor the provider's text, which may quote part of it)."""
        fallback = "OPENAI_API_KEY" if self._api_base else "the provider's API key variable"
        key_env = self.resolved.api_key_env or fallback
        where = self._api_base or "the provider's endpoint"
        return one_line(f"authentication failed for model {self.model} at {where}: check {key_env}", limit=500)

    def _give_up_message(self, reason: str, attempts: int) -> str:
        where = self._api_base or "the provider's endpoint"
        fix = "check --model, --api-base / OPENAI_BASE_URL and the API key variable"
        return one_line(f"model {self.model} at {where} failed after {attempts} attempt(s): {reason}; {fix}", limit=500)

    def _parse(self, response: Any, litellm: Any) -> ChatResult:
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise _Outcome("malformed response: no choices")
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        if not isinstance(text, str) or not text.strip():
            raise _Outcome("empty completion")
        usage = getattr(response, "usage", None)
        return ChatResult(
            text=redact(text),  # a model can echo the key it was sent; nothing downstream ever sees it
            ok=True,
            finish_reason=getattr(choices[0], "finish_reason", None),
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            cost_usd=self._cost(response, litellm),
            model=self.model,
        )

    def _cost(self, response: Any, litellm: Any) -> float | None:
        """Dollars for this response where litellm knows the price; the embedded model is free."""
        if self.resolved.is_local:
            return 0.0
        try:
            return float(litellm.completion_cost(completion_response=response))
        except Exception:  # noqa: BLE001 - unknown price is normal for self-hosted models
            return None

    def _finish(self, result: ChatResult, attempts: int, started: float) -> ChatResult:
        result.latency_s = round(time.monotonic() - started, 4)
        result.attempts = attempts
        record = CallRecord(
            model=self.model,
            ok=result.ok,
            error=result.error,
            attempts=attempts,
            latency_s=result.latency_s,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            cost_usd=result.cost_usd,
            finish_reason=result.finish_reason,
            route=result.route,
            route_fallback=result.route_fallback,
        )
        self.records.append(record)
        if self.budget is not None:
            self.budget.add(result.cost_usd)
        if self.on_record is not None:
            self.on_record(record)
        return result
