"""Which endpoint a `--model` string means: any litellm model string, or `local/smollm2` (embedded).

Why here and not in the client: agents, Harbor's own agents and the CLI all need the same answer
(litellm model name, API base, which key variable) without importing litellm (≈10 s).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from skillspark.errors import UserError

LOCAL_MODEL = "local/smollm2"
LOCAL_ALIAS = "smollm2"  # the name the embedded llama.cpp server answers to

# Sampling for SmolLM2-135M-Instruct (its model card recommends low temperature and top_p 0.9).
# llama.cpp's server defaults (temperature 0.8, repeat penalty 1.1) differ from the library's,
# so every request to the embedded server carries all of them explicitly.
LOCAL_SAMPLING: dict[str, float | int] = {"top_p": 0.9, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1}

# Key variables of common providers, so that a missing key is named before the first call.
# Other providers still work: litellm knows their variables, and the client asks it.
_PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "xai": "XAI_API_KEY",
}
_BARE_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-")

# Limits of one helper call (a memo rewrite, a SKILL.md): the embedded model gets a shorter timeout and no
# retries, since its server keeps decoding a request the client gave up on, so a retry only queues behind
# it (measured: 120 s timeouts retried 4x).
REMOTE_CALL_TIMEOUT_S, LOCAL_CALL_TIMEOUT_S = 120.0, 60.0
REMOTE_CALL_RETRIES, LOCAL_CALL_RETRIES = 4, 0
# Agent steps per exploration attempt for the embedded model: it solves a task in a few steps or not at
# all, and a looping 135M agent otherwise runs into the task's agent timeout.
LOCAL_ATTEMPT_MAX_STEPS = 8
# One long structured reply (a task blueprint): the embedded server's context holds 4,096 tokens and writes
# them in minutes on 2 cores; a hosted model answers 6,000 well within 5 minutes.
REMOTE_LONG_CALL_TIMEOUT_S, LOCAL_LONG_CALL_TIMEOUT_S = 300.0, 600.0
REMOTE_LONG_REPLY_TOKENS, LOCAL_LONG_REPLY_TOKENS = 6000, 4096


class ResolvedModel(BaseModel):
    """What the client needs to call a model. `api_base` None means the provider's default endpoint."""

    model: str
    litellm_model: str
    api_base: str | None = None
    api_key_env: str | None = None
    is_local: bool = False
    extra_body: dict[str, float | int] = {}

    @property
    def call_timeout_s(self) -> float:
        """Seconds one helper call (memo, skill) may take by default."""
        return LOCAL_CALL_TIMEOUT_S if self.is_local else REMOTE_CALL_TIMEOUT_S

    @property
    def call_retries(self) -> int:
        """Retries of a failed helper call by default."""
        return LOCAL_CALL_RETRIES if self.is_local else REMOTE_CALL_RETRIES

    @property
    def attempt_max_steps(self) -> int | None:
        """Agent steps of one exploration attempt by default (None: the agent's own default)."""
        return LOCAL_ATTEMPT_MAX_STEPS if self.is_local else None

    @property
    def long_call_timeout_s(self) -> float:
        """Seconds one long structured reply (a task blueprint) may take by default."""
        return LOCAL_LONG_CALL_TIMEOUT_S if self.is_local else REMOTE_LONG_CALL_TIMEOUT_S

    @property
    def long_reply_max_tokens(self) -> int:
        """Tokens one long structured reply may have by default."""
        return LOCAL_LONG_REPLY_TOKENS if self.is_local else REMOTE_LONG_REPLY_TOKENS

    @property
    def writes_memo_by_section(self) -> bool:
        """Whether an exploration memo is best asked for one short section per call: the embedded 135M model
        cannot rewrite a whole memo in one reply, a hosted model can."""
        return self.is_local

    @property
    def reads_verifier_source(self) -> bool:
        """Whether the task's (redacted) test file helps in a retry prompt: the embedded model copies its Python
        source instead of replying with a bash block (measured: every reply a format error), a hosted model
        reads it."""
        return not self.is_local


def load_dotenv_keys(path: Path = Path(".env")) -> None:
    """Put a `.env` file's variables into the environment without overriding what is already set."""
    if not path.is_file():
        return
    from dotenv import dotenv_values

    for key, value in dotenv_values(path).items():
        if value is not None:
            os.environ.setdefault(key, value)


def _provider(model: str) -> str | None:
    if "/" in model:
        return model.split("/", 1)[0]
    if model.startswith(_BARE_OPENAI_PREFIXES):
        return "openai"
    return None


def resolve_model(model: str, api_base: str | None = None) -> ResolvedModel:
    """Map a `--model` string to a litellm call target; `api_base` (a flag) beats OPENAI_BASE_URL."""
    load_dotenv_keys()
    if model == LOCAL_MODEL:
        return ResolvedModel(
            model=model,
            litellm_model=f"openai/{LOCAL_ALIAS}",
            api_base=api_base,
            is_local=True,
            extra_body=dict(LOCAL_SAMPLING),
        )
    provider = _provider(model)
    if provider == "openai":
        api_base = api_base or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE")
    key_env = _PROVIDER_KEYS.get(provider or "")
    return ResolvedModel(model=model, litellm_model=model, api_base=api_base, api_key_env=key_env)


_ENDPOINT_VARS = ("_API_BASE", "_BASE_URL")


def import_litellm() -> Any:
    """Import litellm once, quietly and offline (its import costs ≈10 s, so only when it is needed)."""
    from skillspark import config  # noqa: F401  sets the offline cost map before litellm reads it (first!)

    import litellm

    litellm.suppress_debug_info = True
    return litellm


def check_credentials(resolved: ResolvedModel) -> None:
    """UserError naming the key variable a remote model lacks (never its value); local and custom bases pass."""
    if resolved.is_local or resolved.api_base:
        return
    env = resolved.api_key_env
    if env is not None:
        missing = [] if os.environ.get(env) else [env]
    else:
        found = import_litellm().validate_environment(model=resolved.litellm_model).get("missing_keys", [])
        missing = [k for k in found if not k.endswith(_ENDPOINT_VARS)]  # endpoints have defaults (ollama)
    if missing:
        raise UserError(f"--model {resolved.model}: {', '.join(missing)} is not set; export it or add it to .env")
