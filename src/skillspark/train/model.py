"""The policy model: which weights to train, how to load them for training, how checkpoints are written and read.

Three kinds of weights: `local/smollm2` (the embedded GGUF, materialized once as safetensors by
`train.prepare`), `tiny-random` (a seeded 2-layer Llama with the SmolLM2 tokenizer, for tests), and any
local Hugging Face folder. Nothing is ever downloaded. torch/transformers/peft are imported inside the
functions so that importing this module stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from skillspark.config import get_settings
from skillspark.errors import UserError
from skillspark.train.prepare import (
    LOCAL_SMOLLM2,
    build_dir_atomically,
    gguf_tokenizer,
    prepare_model,
)

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

TINY_RANDOM = "tiny-random"
TINY_RANDOM_DIR = "tiny-random-llama-v1"  # bump the suffix when the config below changes
TINY_RANDOM_SEED = 0
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
ADAPTER_CONFIG = "adapter_config.json"

__all__ = [
    "load_checkpoint",
    "load_policy",
    "prepare_model",
    "resolve_model",
    "save_checkpoint",
    "tiny_random_model_dir",
]


def tiny_random_model_dir(cache_dir: Path | None = None) -> Path:
    """A seeded random 2-layer Llama with SmolLM2's tokenizer (taken from the GGUF), built once and cached.

    Why this shape: real tokenizer and real vocabulary (so prompts, chat markup and padding behave as with
    SmolLM2) but a body small enough that a training step on 2 CPU cores takes milliseconds.
    """
    target = (cache_dir or get_settings().cache_dir) / "models" / TINY_RANDOM_DIR
    if (target / "config.json").is_file():
        return target

    def build(folder: Path) -> None:
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        tokenizer = gguf_tokenizer()
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=8192,
            tie_word_embeddings=True,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        torch.manual_seed(TINY_RANDOM_SEED)
        model = LlamaForCausalLM(config)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    return build_dir_atomically(target, build)


def resolve_model(spec: str) -> Path:
    """`--model` → a local folder: `tiny-random`, `local/smollm2` (prepared on first use), or a path.

    A path must be a Hugging Face model folder (config.json and weights) or a LoRA checkpoint written by
    `save_checkpoint` (adapter_config.json).
    """
    if spec == TINY_RANDOM:
        return tiny_random_model_dir()
    if spec == LOCAL_SMOLLM2:
        return prepare_model(LOCAL_SMOLLM2)
    path = Path(spec).expanduser()
    fix = f"give {TINY_RANDOM}, {LOCAL_SMOLLM2}, or a local Hugging Face model folder (config.json + *.safetensors)"
    if not path.is_dir():
        raise UserError(f"model {spec}: no such folder; {fix}")
    if (path / ADAPTER_CONFIG).is_file():
        return path
    if not (path / "config.json").is_file() or not any((path / name).is_file() for name in WEIGHT_FILES):
        raise UserError(f"model {spec}: not a model folder (no config.json or no weights file); {fix}")
    return path


def _device(device: str | None) -> str:
    import torch

    return device or ("cuda" if torch.cuda.is_available() else "cpu")


@contextmanager
def _unloadable(path: Path) -> Iterator[None]:
    """A folder that looks like a model but does not load (bad config, torn weights) is the user's to fix."""
    try:
        yield
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"model {path}: does not load ({reason}); rebuild or replace that folder") from None


def _load_tokenizer(path: Path) -> PreTrainedTokenizerBase:
    """Left padding (batched generation appends on the right) and a pad token (SmolLM2's is <|im_end|>)."""
    from transformers import AutoTokenizer

    with _unloadable(path):
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def _load_base(path: Path, device: str | None, pad_token_id: int) -> PreTrainedModel:
    import torch
    from transformers import AutoModelForCausalLM

    with _unloadable(path):
        model = AutoModelForCausalLM.from_pretrained(
            str(path.resolve()), dtype=torch.float32, attn_implementation="sdpa", local_files_only=True
        )
    model.config.pad_token_id = pad_token_id
    model.generation_config.pad_token_id = pad_token_id
    return model.to(_device(device))


def _adapter_base(path: Path) -> Path:
    """The base model folder a LoRA checkpoint was trained on (recorded by peft as an absolute path)."""
    try:
        base = Path(json.loads((path / ADAPTER_CONFIG).read_text())["base_model_name_or_path"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path / ADAPTER_CONFIG}: unreadable ({exc}); re-save the checkpoint") from None
    if not (base / "config.json").is_file():
        raise UserError(
            f"{path}: its base model {base} is gone; prepare it again (skillspark train prepare-model) at that path"
        )
    return base


def load_policy(
    path: Path, *, lora: bool = False, lora_rank: int = 8, seed: int = 0, device: str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A trainable fp32 policy with sdpa attention, and its left-padding tokenizer.

    With `lora`, only rank-`lora_rank` adapters on the attention projections train; `model.disable_adapter()`
    then gives the frozen base, which is the reference policy of the KL term at no extra memory. A LoRA
    checkpoint folder as `path` continues training that adapter.
    """
    if (path / ADAPTER_CONFIG).is_file():
        return load_checkpoint(path, device=device)
    import torch

    tokenizer = _load_tokenizer(path)
    model = _load_base(path, device, tokenizer.pad_token_id)
    if lora:
        from peft import LoraConfig, get_peft_model

        torch.manual_seed(seed)  # the adapters' A matrices are drawn at random
        config = LoraConfig(
            r=lora_rank, lora_alpha=2 * lora_rank, lora_dropout=0.0, target_modules=LORA_TARGETS, task_type="CAUSAL_LM"
        )
        model = get_peft_model(model, config)
    return model, tokenizer


def save_checkpoint(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, path: Path, state_dict: dict | None = None) -> None:
    """Write a full model folder, or for a peft model an adapter folder naming its base; atomically.

    Pass the unwrapped model (`accelerator.unwrap_model`); a sharded one with its gathered `state_dict`.
    An existing checkpoint at `path` is replaced only once the new one is complete.
    """

    def build(folder: Path) -> None:
        model.save_pretrained(folder, state_dict=state_dict)
        tokenizer.save_pretrained(folder)

    build_dir_atomically(path, build, replace=True)


def load_checkpoint(
    path: Path, *, trainable: bool = True, device: str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Read back what `save_checkpoint` wrote: a full model folder or a LoRA adapter on its recorded base.

    `trainable=False` freezes every parameter (evaluation); the default resumes training.
    """
    if not (path / ADAPTER_CONFIG).is_file():
        model, tokenizer = load_policy(resolve_model(str(path)), device=device)
        return model.requires_grad_(trainable), tokenizer
    from peft import PeftModel

    tokenizer = _load_tokenizer(path)
    base = _load_base(_adapter_base(path), device, tokenizer.pad_token_id)
    model = PeftModel.from_pretrained(base, str(path), is_trainable=trainable)
    return model, tokenizer
