"""The policy model: tiny-random, loading (full and LoRA), checkpoints, --model resolution, GGUF preparation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from skillspark.errors import UserError
from skillspark.train import model as model_module
from skillspark.train import prepare
from skillspark.train.model import (
    load_checkpoint,
    load_policy,
    resolve_model,
    save_checkpoint,
    tiny_random_model_dir,
)

PROMPTS = ["<|im_start|>user\nopen the door<|im_end|>\n", "<|im_start|>user\ngo north, then take the key from the table<|im_end|>\n"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return tiny_random_model_dir(tmp_path_factory.mktemp("cache"))


def logits(model, tokenizer, texts=PROMPTS):
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        return model(**batch).logits


def perturb(model, names=("",)):
    """Move the named parameters off their initial values, so a reload that re-initializes would show."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if any(n in name for n in names):
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))


def test_tiny_random_is_a_small_llama_with_the_smollm2_tokenizer(tiny):
    config = json.loads((tiny / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"]) == (2, 64, 4)
    assert config["num_key_value_heads"] == 2 and config["tie_word_embeddings"] is True
    assert (tiny / "model.safetensors").is_file()
    model, tokenizer = load_policy(tiny)
    assert config["vocab_size"] == len(tokenizer) == 49152  # SmolLM2's vocabulary
    assert tokenizer.convert_ids_to_tokens([1, 2]) == ["<|im_start|>", "<|im_end|>"]
    out = logits(model, tokenizer)
    assert out.shape[0] == 2 and out.shape[2] == 49152 and torch.isfinite(out).all()
    assert model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()


def test_tiny_random_is_seeded_and_cached(tiny, tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    monkeypatch.setattr(model_module, "gguf_tokenizer", lambda: AutoTokenizer.from_pretrained(tiny))  # saves ~10 s
    again = tiny_random_model_dir(tmp_path)
    assert (again / "model.safetensors").read_bytes() == (tiny / "model.safetensors").read_bytes()
    stamp = (again / "model.safetensors").stat().st_mtime_ns
    assert tiny_random_model_dir(tmp_path) == again
    assert (again / "model.safetensors").stat().st_mtime_ns == stamp
    beside = sorted(p.name for p in again.parent.iterdir())
    assert beside == [again.name]  # no temp folder left, nor the build lock


def test_policy_is_fp32_sdpa_and_pads_left_for_batched_generation(tiny):
    model, tokenizer = load_policy(tiny)
    assert next(model.parameters()).dtype == torch.float32
    assert model.config._attn_implementation == "sdpa"
    assert tokenizer.padding_side == "left"
    assert tokenizer.pad_token_id == model.generation_config.pad_token_id == 2  # SmolLM2: pad = <|im_end|>
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    assert batch.input_ids[0, 0] == tokenizer.pad_token_id and batch.attention_mask[0, 0] == 0
    settings = dict(max_new_tokens=6, min_new_tokens=6, do_sample=False)
    together = model.generate(**batch, **settings)[:, batch.input_ids.shape[1]:]
    for row, text in enumerate(PROMPTS):
        alone = tokenizer(text, return_tensors="pt")
        single = model.generate(**alone, **settings)[0, alone.input_ids.shape[1]:]
        assert torch.equal(together[row], single)


def test_lora_policy_trains_only_the_attention_adapters(tiny):
    model, tokenizer = load_policy(tiny, lora=True, lora_rank=4)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    assert {n.split(".lora_")[0].rsplit(".", 1)[1] for n in trainable} == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert len(trainable) == 2 * 4 * 2  # A and B × four projections × two layers
    base = logits(model, tokenizer)
    perturb(model, ("lora_B",))  # B starts at 0: the adapter is a no-op until it trains
    assert not torch.allclose(logits(model, tokenizer), base)
    with model.disable_adapter():  # the frozen reference of the KL term
        assert torch.equal(logits(model, tokenizer), base)
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    model(**batch, labels=batch.input_ids).loss.backward()
    graded = {n for n, p in model.named_parameters() if p.grad is not None}
    assert graded == trainable


def test_lora_init_follows_the_seed(tiny):
    def adapters(seed):
        model, _ = load_policy(tiny, lora=True, seed=seed)
        return [p.detach().clone() for n, p in model.named_parameters() if "lora_A" in n]

    first, again, other = adapters(0), adapters(0), adapters(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_full_checkpoint_reloads_identical_logits(tiny, tmp_path):
    model, tokenizer = load_policy(tiny)
    perturb(model)
    expected = logits(model, tokenizer)
    save_checkpoint(model, tokenizer, tmp_path / "step-1")
    loaded, loaded_tokenizer = load_checkpoint(tmp_path / "step-1")
    assert torch.equal(logits(loaded, loaded_tokenizer), expected)
    assert loaded_tokenizer.padding_side == "left"
    assert [p.name for p in tmp_path.iterdir()] == ["step-1"]
    assert all(p.requires_grad for p in loaded.parameters())
    frozen, _ = load_checkpoint(tmp_path / "step-1", trainable=False)
    assert not any(p.requires_grad for p in frozen.parameters())


def test_lora_checkpoint_is_an_adapter_naming_its_base(tiny, tmp_path):
    model, tokenizer = load_policy(tiny, lora=True)
    perturb(model, ("lora_",))
    expected = logits(model, tokenizer)
    save_checkpoint(model, tokenizer, tmp_path / "step-1")
    adapter = json.loads((tmp_path / "step-1" / "adapter_config.json").read_text())
    assert Path(adapter["base_model_name_or_path"]) == tiny.resolve()
    assert not (tmp_path / "step-1" / "model.safetensors").exists()  # adapters only, not a second base
    loaded, loaded_tokenizer = load_checkpoint(tmp_path / "step-1")
    assert torch.equal(logits(loaded, loaded_tokenizer), expected)
    assert any(p.requires_grad for p in loaded.parameters())  # resumable
    frozen, _ = load_checkpoint(tmp_path / "step-1", trainable=False)
    assert not any(p.requires_grad for p in frozen.parameters())
    assert resolve_model(str(tmp_path / "step-1")) == tmp_path / "step-1"


def test_save_checkpoint_replaces_an_older_one_whole(tiny, tmp_path):
    model, tokenizer = load_policy(tiny)
    save_checkpoint(model, tokenizer, tmp_path / "last")
    perturb(model)
    save_checkpoint(model, tokenizer, tmp_path / "last")
    loaded, _ = load_checkpoint(tmp_path / "last")
    assert torch.equal(logits(loaded, tokenizer), logits(model, tokenizer))
    assert [p.name for p in tmp_path.iterdir()] == ["last"]


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    def build(folder: Path) -> None:
        (folder / "half.bin").write_bytes(b"x")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        prepare.build_dir_atomically(tmp_path / "model", build)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_published_first_wins(tmp_path):
    def racing(folder: Path) -> None:  # another process publishes while we build
        (tmp_path / "model").mkdir()
        (tmp_path / "model" / "theirs").write_text("1")
        (folder / "ours").write_text("2")

    assert prepare.build_dir_atomically(tmp_path / "model", racing) == tmp_path / "model"
    assert [p.name for p in (tmp_path / "model").iterdir()] == ["theirs"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_resolve_model_names(tiny, monkeypatch):
    monkeypatch.setenv("SKILLSPARK_CACHE_DIR", str(tiny.parent.parent))
    assert resolve_model("tiny-random") == tiny
    assert resolve_model(str(tiny)) == tiny


@pytest.mark.parametrize("make", ["missing", "empty", "no-weights", "a-file"])
def test_resolve_model_rejects_what_is_not_a_model_in_one_line(tmp_path, make):
    path = tmp_path / "model"
    if make == "empty":
        path.mkdir()
    elif make == "no-weights":
        path.mkdir()
        (path / "config.json").write_text("{}")
    elif make == "a-file":
        path.write_text("weights?")
    with pytest.raises(UserError) as error:
        resolve_model(str(path))
    message = str(error.value)
    assert str(path) in message and "\n" not in message and "local/smollm2" in message


def test_a_folder_that_does_not_load_is_one_line(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"torn")
    with pytest.raises(UserError) as error:
        load_policy(resolve_model(str(tmp_path)))
    assert str(tmp_path) in str(error.value) and "\n" not in str(error.value)


def test_a_lora_checkpoint_whose_base_is_gone_says_so(tiny, tmp_path):
    import shutil

    base = Path(shutil.copytree(tiny, tmp_path / "base"))
    model, tokenizer = load_policy(base, lora=True)
    save_checkpoint(model, tokenizer, tmp_path / "adapter")
    shutil.rmtree(base)
    with pytest.raises(UserError, match=f"{base} is gone"):
        load_checkpoint(tmp_path / "adapter")


def test_prepare_model_refuses_a_foreign_output_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match=f"{tmp_path}.*remove it or pick another"):
        prepare.prepare_model(output=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_prepare_model_rejects_an_unknown_source(tmp_path):
    with pytest.raises(UserError, match="nothing.gguf"):
        prepare.prepare_model(str(tmp_path / "nothing.gguf"))


@pytest.mark.slow
def test_prepare_model_matches_the_gguf_and_is_built_once(tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM

    folder = prepare.prepare_model(output=tmp_path / "smollm2")
    record = prepare.PreparedModel.model_validate_json((folder / prepare.PREPARED).read_text())
    assert record.max_abs_logit_diff <= prepare.LOGIT_TOLERANCE
    config = json.loads((folder / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (30, 576, 49152)
    assert "quantization_config" not in config

    # an independent check: the GGUF load and our policy load agree on a batch, padding included
    gguf = prepare.gguf_path()
    reference = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
    )
    policy, tokenizer = load_policy(folder)
    batch = tokenizer(PROMPTS, return_tensors="pt", padding=True)
    with torch.inference_mode():
        diff = (reference(**batch).logits - policy(**batch).logits)[batch.attention_mask.bool()].abs().max().item()
    assert diff <= prepare.LOGIT_TOLERANCE
    assert tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False).startswith("<|im_start|>")

    monkeypatch.setattr(prepare, "build_dir_atomically", lambda *a, **k: pytest.fail("rebuilt a prepared model"))
    assert prepare.prepare_model(output=tmp_path / "smollm2") == folder
