"""GGUF → trainable safetensors folder, once, offline (built aside and renamed in place, one builder at a time).

Why a conversion: transformers loads the embedded SmolLM2 GGUF (weights dequantized to fp32 in memory) but
keeps its GGUF quantizer attached, which marks the model neither trainable nor serializable. Dropping the
quantizer leaves a plain fp32 Llama; saving it gives a folder every tool (Trainer, peft, accelerate, TRL)
loads. The saved folder's logits are checked against the GGUF load and the difference is recorded.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from skillspark.config import get_settings
from skillspark.errors import UserError
from skillspark.files import build_dir_atomically, write_atomic
from skillspark.llm.local_server import gguf_path

# Model folders are local by design: no hub lookups, even for a file a folder happens to lack.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

LOCAL_SMOLLM2 = "local/smollm2"
SMOLLM2_DIR = "smollm2-135m-instruct"
PREPARED = "prepared.json"
CHECK_PROMPT = "<|im_start|>user\nWhat is the capital of France? Answer in one word.<|im_end|>\n<|im_start|>assistant\n"
# Both sides hold the same fp32 numbers, so only kernel summation order can differ; measured 0.0 (see tests).
LOGIT_TOLERANCE = 1e-4


class PreparedModel(BaseModel):
    """What `prepared.json` records beside the weights: where they came from and how well they match."""

    source: str
    source_bytes: int
    transformers: str
    torch: str
    prompt: str
    prompt_tokens: int
    max_abs_logit_diff: float
    tolerance: float


def gguf_tokenizer(gguf: Path | None = None):
    """The tokenizer stored in a GGUF file (default: the embedded SmolLM2), with a pad token set."""
    from transformers import AutoTokenizer

    gguf = gguf or gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _source_gguf(source: str) -> Path:
    if source == LOCAL_SMOLLM2:
        return gguf_path()
    path = Path(source).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        raise UserError(f"--model {source}: not {LOCAL_SMOLLM2} and no such .gguf file; give one of those")
    return path


def max_logit_diff(a, b, tokenizer, prompt: str = CHECK_PROMPT) -> tuple[float, int]:
    """Largest |logit difference| of two models on one prompt, and the prompt's length in tokens."""
    import torch

    ids = tokenizer(prompt, return_tensors="pt").input_ids
    with torch.inference_mode():
        diff = (a(ids).logits - b(ids).logits).abs().max().item()
    return diff, ids.shape[1]


def prepare_model(source: str = LOCAL_SMOLLM2, output: Path | None = None) -> Path:
    """A trainable safetensors folder of `source` (`local/smollm2` or a .gguf path), built once.

    Default output: `<cache>/models/smollm2-135m-instruct` (or the GGUF's stem). A second call returns the
    existing folder at once. SmolLM2-135M: 59 s and 1.9 GB peak RSS on a busy 2-core box (load 9),
    538 MB of weights.
    """
    gguf = _source_gguf(source)
    name = SMOLLM2_DIR if source == LOCAL_SMOLLM2 else gguf.stem
    target = output or get_settings().cache_dir / "models" / name
    if (target / PREPARED).is_file():
        return target
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"--output {target}: exists and holds no prepared model ({PREPARED} missing); remove it or pick another")

    def build(folder: Path) -> None:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM

        def load(path: Path, **kwargs):
            return AutoModelForCausalLM.from_pretrained(
                str(path), dtype=torch.float32, attn_implementation="sdpa", local_files_only=True, **kwargs
            )

        tokenizer = gguf_tokenizer(gguf)
        model = load(gguf.parent, gguf_file=gguf.name)
        model.hf_quantizer.remove_quantization_config(model)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        diff, tokens = max_logit_diff(model, load(folder), tokenizer)
        if diff > LOGIT_TOLERANCE:
            raise RuntimeError(f"prepare-model: saved weights differ from {gguf} (max |Δlogit| {diff:g} > {LOGIT_TOLERANCE})")
        record = PreparedModel(
            source=str(gguf),
            source_bytes=gguf.stat().st_size,
            transformers=transformers.__version__,
            torch=torch.__version__,
            prompt=CHECK_PROMPT,
            prompt_tokens=tokens,
            max_abs_logit_diff=diff,
            tolerance=LOGIT_TOLERANCE,
        )
        write_atomic(folder / PREPARED, record.model_dump_json(indent=2) + "\n")

    return build_dir_atomically(target, build, done=lambda folder: (folder / PREPARED).is_file())
