"""skillspark.llm: every model call of skillspark goes through here.

- `models.resolve_model`: a `--model` string -> litellm target (`local/smollm2` is the embedded model).
- `client.LLMClient`: async chat with retries, per-call `CallRecord`s, a shared `Budget`, redacted errors.
- `local_server.local_model_endpoint`: the embedded SmolLM2 llama.cpp server, reused or started.
- redaction of API keys lives on the ground floor: `skillspark.core.redact`.

Nothing here imports litellm or llama_cpp at import time (litellm alone costs ≈10 s).
"""
