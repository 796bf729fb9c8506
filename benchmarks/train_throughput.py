"""Training throughput: our GRPO update vs TRL's GRPOTrainer, on the same model and batch, equal maths first.

Protocol (research/training.md, issue 18): both sides load the same safetensors folder (`train prepare-model`)
through `load_policy` (fp32, sdpa); torch uses `--threads` threads; B prompts × G completions per step,
every completion exactly `--completion` tokens (end-of-text suppressed); rewards are not constant (a
function of the completion's text, so advantages are not all zero); no KL (TRL beta 0, ours kl_coef 0), no
entropy term, one optimizer step per batch (TRL num_iterations 1; ours ppo_mini_batch ≥ batch), token-mean
loss (TRL `dapo` = ours), max grad norm 1, torch AdamW at lr 1e-6, no gradient checkpointing, no bf16.

Before any timing, the loss and the gradient norm of both sides are computed on one TRL-generated batch
and must agree (`check_parity`): our side gets TRL's prompts, completions and advantages (each sample its
own group: a singleton keeps its reward, as in the reference, so TRL's advantages pass through unchanged).
The log-prob paths are pinned: TRL 1.16 always scores through its fused, tiled LM head
(`add_fused_lm_head`); ours takes the response window's full logits and a log-softmax.

TRL's side runs TRL's own code (`_generate_and_score_completions`, `compute_loss`), driven step by step as
the Trainer's inner loop does (backward, clip, AdamW step), so that both sides are timed by the same clock.
Runs interleave (TRL step, our step, ...); the first round is a warm-up; figures are min/median/max of the
others. Phases: generation; forward (forwards with gradient); backward; optimizer (AdamW's step). Peak
memory: the largest RSS above the pre-step level, sampled every 5 ms. The update's FLOP rate is compared
with the machine's fp32 matmul rate measured by a micro-benchmark in the same run.

    uv sync --all-extras --group bench   # TRL: a benchmark-only dependency
    uv run --frozen python benchmarks/train_throughput.py                  # --preset realistic: 8 prompts x 4, 128 tokens
    uv run --frozen python benchmarks/train_throughput.py --preset quick   # 2 prompts x 2, 16 tokens: fits a busy 2-core box

Presets only set the batch shape (`--prompts`, `--group-size`, `--completion`, each of which still wins when
given); the protocol is the same in both. `realistic` is the issue's batch and needs a GPU or a quiet machine
(one SmolLM2 update of it takes minutes on 2 CPU cores); `quick` is what completes on a loaded 2-core VM,
and its per-step overhead weighs more than in a realistic batch, so read its ratio as such.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

PROTOCOL_THREADS = 2
OBJECTIVE = "Find the golden key and unlock the chest in the cellar."
ADMISSIBLE = ["go north", "go south", "open door", "take key", "look", "inventory"]
PHASES = ("generation", "forward", "backward", "optimizer", "update")
PRESETS = {"realistic": {"prompts": 8, "group_size": 4, "completion": 128}, "quick": {"prompts": 2, "group_size": 2, "completion": 16}}
INSTALL_TRL = "uv sync --all-extras --group bench"


def build_prompts(tokenizer, count: int) -> list[list[int]]:
    """`count` distinct student turn prompts (different rooms), in SmolLM2's chat template."""
    from skillspark.train.prompts import build_turn_prompt

    return [
        build_turn_prompt(
            tokenizer, objective=OBJECTIVE, history=[], admissible=ADMISSIBLE, history_turns=0, skill=None, max_prompt_tokens=4096,
            observation=f"You are in room {index + 1}. It is dusty; an old door leads north and a key lies on the floor.",
        ).student_ids
        for index in range(count)
    ]


def text_reward(text: str) -> float:
    """A deterministic, non-constant reward of a completion's text (its length modulo 13, scaled to [0, 1])."""
    return (len(text) % 13) / 12


def parity_samples(batch: dict):
    """TRL's generated batch as our turn samples: TRL's prompt and completion tokens (padding dropped) and
    TRL's advantage as each sample's reward in a group of its own (a singleton keeps its reward)."""
    from skillspark.train.batch import TurnSample

    samples = []
    for row in range(batch["prompt_ids"].shape[0]):
        prompt = batch["prompt_ids"][row][batch["prompt_mask"][row].bool()].tolist()
        completion = batch["completion_ids"][row][batch["completion_mask"][row].bool()].tolist()
        samples.append(TurnSample(prompt, completion, float(batch["advantages"][row]), f"row-{row}", f"row-{row}"))
    return samples


def grpo_config(sequences: int):
    """Our side of the protocol: GRPO, no KL, no entropy, one optimizer step over the whole batch."""
    from skillspark.train.algorithms import AlgoConfig

    return AlgoConfig(algo="grpo", entropy_coef=0.0, kl_coef=0.0, micro_batch_size=sequences, ppo_mini_batch=sequences, max_grad_norm=1.0)


def ours_loss_and_grad_norm(model, samples, pad_id: int) -> tuple[float, float]:
    """Our update's loss and pre-clip gradient norm on `samples`, the weights left unchanged (SGD at lr 0)."""
    import torch

    from skillspark.train.update import update_step

    stats = update_step(model, torch.optim.SGD(model.parameters(), lr=0.0), samples, grpo_config(len(samples)), pad_id=pad_id)
    return stats["loss"], stats["grad_norm"]


def trl_loss_and_grad_norm(trainer, batch: dict) -> tuple[float, float]:
    """TRL's loss on its own batch and the gradient norm it produces; the gradients are then dropped."""
    import torch

    model = trainer.model
    model.train()
    loss = trainer.compute_loss(model, batch)
    loss.backward()
    norm = torch.nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
    model.zero_grad(set_to_none=True)
    return loss.item(), float(norm)


def check_parity(ours_model, trainer, batch: dict, pad_id: int, rel: float = 1e-4) -> dict[str, float]:
    """Both sides' loss and gradient norm on the same batch; SystemExit when they differ beyond `rel`."""
    ours_loss, ours_norm = ours_loss_and_grad_norm(ours_model, parity_samples(batch), pad_id)
    trl_loss, trl_norm = trl_loss_and_grad_norm(trainer, batch)
    figures = {"ours_loss": ours_loss, "trl_loss": trl_loss, "ours_grad_norm": ours_norm, "trl_grad_norm": trl_norm}
    if abs(ours_loss - trl_loss) > rel * max(1.0, abs(trl_loss)) or abs(ours_norm - trl_norm) > rel * max(1e-3, trl_norm):
        raise SystemExit(f"the two sides do not compute the same update: {figures}; no timing is meaningful")
    return figures


def make_trl_trainer(path: Path, prompt_texts: list[str], args, output_dir: str):
    """TRL's GRPOTrainer set to the protocol (its generation and loss; we drive the steps)."""
    import torch
    from datasets import Dataset
    from datasets.table import InMemoryTable
    from trl import GRPOConfig, GRPOTrainer

    from skillspark.train.model import load_policy

    model, tokenizer = load_policy(path, device="cpu", seed=args.seed)
    config = GRPOConfig(
        output_dir=output_dir, per_device_train_batch_size=args.prompts * args.group_size, num_generations=args.group_size,
        steps_per_generation=1, gradient_accumulation_steps=1, num_iterations=1, max_completion_length=args.completion,
        generation_kwargs={"min_new_tokens": args.completion}, temperature=1.0, top_k=0, top_p=1.0, beta=0.0,
        loss_type="dapo", mask_truncated_completions=False, learning_rate=1e-6, weight_decay=0.0, max_grad_norm=1.0,
        optim="adamw_torch", bf16=False, fp16=False, use_cpu=not torch.cuda.is_available(),
        logging_strategy="no", save_strategy="no", report_to="none", disable_tqdm=True, log_completions=False,
        dataloader_num_workers=0, seed=args.seed,
    )
    # a fixed fingerprint: datasets 5.2 hashes a new dataset's state with dill, which fails on pyarrow 26's
    # MonthDayNano type; the prompts are never cached or mapped, so the fingerprint does not matter
    prompts = Dataset(InMemoryTable.from_pydict({"prompt": prompt_texts}), fingerprint="train-throughput-prompts")
    trainer = GRPOTrainer(
        model=model, args=config, processing_class=tokenizer, train_dataset=prompts,
        reward_funcs=lambda completions, **_: [text_reward(c) for c in completions],
    )
    trainer.create_optimizer()
    trainer.current_gradient_accumulation_steps = 1  # what Trainer's loop sets before each step
    return trainer


class PhaseClock:
    """Seconds per phase of one side's step, from hooks: forwards with gradient, Tensor.backward, optimizer.step."""

    def __init__(self, model, optimizer) -> None:
        import torch

        self.seconds: dict[str, float] = {}
        self.model, self.optimizer, self.torch = model, optimizer, torch

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    @contextmanager
    def hooks(self):
        torch, starts = self.torch, []
        pre = self.model.register_forward_pre_hook(lambda *_: starts.append(time.perf_counter()) if torch.is_grad_enabled() else None)
        post = self.model.register_forward_hook(lambda *_: self.add("forward", time.perf_counter() - starts.pop()) if torch.is_grad_enabled() else None)
        backward, step = torch.Tensor.backward, self.optimizer.step

        def timed_backward(tensor, *a, **k):
            with self.phase("backward"):
                return backward(tensor, *a, **k)

        def timed_step(*a, **k):
            with self.phase("optimizer"):
                return step(*a, **k)

        torch.Tensor.backward, self.optimizer.step = timed_backward, timed_step
        try:
            yield
        finally:
            torch.Tensor.backward, self.optimizer.step = backward, step
            pre.remove()
            post.remove()


@contextmanager
def peak_rss(into: dict):
    """The largest resident set size above the level at entry, sampled every 5 ms, into into['peak_mb']."""
    import psutil

    process, stop = psutil.Process(), threading.Event()
    base = peak = process.memory_info().rss

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.005):
            peak = max(peak, process.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        into["peak_mb"] = (max(peak, process.memory_info().rss) - base) / 2**20


class Ours:
    """Our side: fixed-length batched generation, then `update.update_step` (GRPO, one optimizer step)."""

    def __init__(self, path: Path, args) -> None:
        import torch

        from skillspark.train.model import load_policy

        self.model, self.tokenizer = load_policy(path, device="cpu", seed=args.seed)
        self.prompts, self.args = build_prompts(self.tokenizer, args.prompts), args
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-6, weight_decay=0.0)
        self.cfg = grpo_config(args.prompts * args.group_size)

    def generate(self) -> list[list[int]]:
        import torch
        from transformers import GenerationConfig

        prompts = [p for p in self.prompts for _ in range(self.args.group_size)]
        width, pad = max(len(p) for p in prompts), self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
        attention_mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        length = self.args.completion
        config = GenerationConfig(max_new_tokens=length, min_new_tokens=length, do_sample=True, temperature=1.0, top_k=None,
                                  top_p=None, pad_token_id=pad, eos_token_id=self.tokenizer.eos_token_id)
        with torch.no_grad():
            output = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, generation_config=config)
        return output[:, width:].tolist()

    def step(self) -> dict[str, float]:
        from skillspark.train.batch import TurnSample
        from skillspark.train.update import update_step

        clock, memory, g = PhaseClock(self.model, self.optimizer), {}, self.args.group_size
        with peak_rss(memory):
            with clock.phase("generation"):
                completions = self.generate()
            samples = [
                TurnSample(self.prompts[i // g], c, text_reward(self.tokenizer.decode(c, skip_special_tokens=True)), f"p{i // g}", f"p{i // g}/{i}")
                for i, c in enumerate(completions)
            ]
            with clock.hooks(), clock.phase("update"):
                update_step(self.model, self.optimizer, samples, self.cfg, pad_id=self.tokenizer.pad_token_id)
        padded = max(len(s.prompt_ids) + len(s.response_ids) for s in samples)
        return clock.seconds | memory | {"sequence_tokens": float(padded * len(samples)), "rewards": len({s.reward for s in samples})}


class Trl:
    """TRL's side: its generation-and-scoring, then its loss, backward, clip and AdamW step."""

    def __init__(self, trainer, prompt_texts: list[str], args) -> None:
        self.trainer, self.args = trainer, args
        self.rows = [{"prompt": text} for text in prompt_texts for _ in range(args.group_size)]

    def step(self) -> dict[str, float]:
        import torch

        trainer = self.trainer
        clock, memory = PhaseClock(trainer.model, trainer.optimizer), {}
        with peak_rss(memory):
            with clock.phase("generation"):
                batch = trainer._generate_and_score_completions(self.rows)
            with clock.hooks(), clock.phase("update"):
                trainer.model.train()
                loss = trainer.compute_loss(trainer.model, batch)
                trainer.accelerator.backward(loss)
                torch.nn.utils.clip_grad_norm_(trainer.model.parameters(), trainer.args.max_grad_norm)
                trainer.optimizer.step()
                trainer.optimizer.zero_grad(set_to_none=True)
        tokens = float(batch["prompt_ids"].numel() + batch["completion_ids"].numel())
        return clock.seconds | memory | {"sequence_tokens": tokens, "rewards": len(set(batch["advantages"].tolist()))}


def matmul_gflops(size: int = 1024, repeats: int = 8) -> float:
    """The machine's fp32 matmul rate now: the best of `repeats` size×size products (2·n³ FLOP each)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def update_flops(model, sequence_tokens: float, kept_tokens: float, sequences: int, length: float) -> float:
    """FLOPs of one forward + backward (3× the forward): 2·N_body per token, the LM head on the kept
    positions only, attention 4·L·S²·d per sequence (sdpa with a padding mask computes the full square)."""
    config = model.config
    embedding = model.get_input_embeddings().weight.numel()
    body = sum(p.numel() for p in model.parameters()) - embedding
    forward = 2 * body * sequence_tokens + 2 * embedding * kept_tokens
    forward += 4 * config.num_hidden_layers * sequences * length**2 * config.hidden_size
    return 3 * forward


def spread(rounds: list[dict[str, float]], key: str) -> tuple[float, float, float]:
    values = [r.get(key, 0.0) for r in rounds]
    return min(values), statistics.median(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local/smollm2", help="local/smollm2 (default) | tiny-random | a local HF folder")
    parser.add_argument("--preset", choices=PRESETS, default="realistic", help="batch shape: realistic 8x4x128, quick 2x2x16")
    parser.add_argument("--prompts", type=int, default=None, help="B: distinct prompts per step (default: the preset's)")
    parser.add_argument("--group-size", type=int, default=None, help="G: completions per prompt (default: the preset's)")
    parser.add_argument("--completion", type=int, default=None, help="tokens per completion, fixed (default: the preset's)")
    parser.add_argument("--runs", type=int, default=5, help="measured steps per side, after one warm-up")
    parser.add_argument("--threads", type=int, default=PROTOCOL_THREADS, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)

    import torch
    import transformers

    try:
        import trl
    except ImportError:
        raise SystemExit(f"error: TRL is missing (it is this benchmark's baseline); install it with: {INSTALL_TRL}") from None
    from skillspark.train.model import resolve_model

    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    path = resolve_model(args.model)
    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as output_dir:
        ours = Ours(path, args)
        prompts = ours.prompts
        texts = [ours.tokenizer.decode(ids) for ids in prompts]
        if [ours.tokenizer.encode(t, add_special_tokens=False) for t in texts] != prompts:
            raise SystemExit("the prompt texts TRL gets do not re-encode to our prompt ids; the sides would differ")
        trainer = make_trl_trainer(path, texts, args, output_dir)
        side = Trl(trainer, texts, args)
        parity = check_parity(ours.model, trainer, trainer._generate_and_score_completions(side.rows), ours.tokenizer.pad_token_id)
        print(f"parity: loss ours {parity['ours_loss']:.6f} TRL {parity['trl_loss']:.6f}; grad norm ours "
              f"{parity['ours_grad_norm']:.6f} TRL {parity['trl_grad_norm']:.6f}", flush=True)
        peak = matmul_gflops()
        rounds: dict[str, list[dict[str, float]]] = {"TRL": [], "ours": []}
        for index in range(args.runs + 1):
            for name, runner in (("TRL", side), ("ours", ours)):
                result = runner.step()
                rounds[name].append(result)
                print(f"round {index} {name}: " + ", ".join(f"{k} {result.get(k, 0.0):.2f} s" for k in PHASES), file=sys.stderr, flush=True)
        peak = max(peak, matmul_gflops())
    load_at_end = os.getloadavg()

    sequences, completion_tokens = args.prompts * args.group_size, args.prompts * args.group_size * args.completion
    params = sum(p.numel() for p in ours.model.parameters())
    print(f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} ({args.threads} threads), "
          f"transformers {transformers.__version__}, TRL {trl.__version__}; load average {load_at_start[0]:.1f} at start, {load_at_end[0]:.1f} at end")
    print(f"model: {args.model} ({params / 1e6:.1f} M parameters, fp32, sdpa); preset {args.preset}; batch: {args.prompts} prompts x {args.group_size} = "
          f"{sequences} sequences, prompt {statistics.mean(len(p) for p in prompts):.0f} tokens, completion {args.completion} tokens (fixed); "
          f"{args.runs} interleaved runs after 1 warm-up; distinct rewards per batch: ours {rounds['ours'][-1]['rewards']}, TRL {rounds['TRL'][-1]['rewards']}")
    print(f"fp32 matmul peak (1024², best of 8, this run): {peak:.1f} GFLOP/s")
    print("| side | phase | min s | median s | max s |")
    print("|---|---|---|---|---|")
    for name, measured in rounds.items():
        for phase in PHASES:
            low, mid, high = spread(measured[1:], phase)
            print(f"| {name} | {phase} | {low:.2f} | {mid:.2f} | {high:.2f} |")
    for name, measured in rounds.items():
        kept = measured[1:]
        update = statistics.median(r["update"] for r in kept)
        compute = statistics.median(r.get("forward", 0.0) + r.get("backward", 0.0) for r in kept)
        length = statistics.median(r["sequence_tokens"] for r in kept) / sequences
        flops = update_flops(ours.model, length * sequences, completion_tokens, sequences, length)
        print(f"{name}: update {completion_tokens / update:.1f} completion tok/s (median {update:.2f} s/step), generation "
              f"{completion_tokens / statistics.median(r['generation'] for r in kept):.1f} tok/s; peak RSS above the step's start "
              f"{statistics.median(r['peak_mb'] for r in kept):.0f} MB (median); forward+backward {flops / compute / 1e9:.1f} GFLOP/s "
              f"= {flops / compute / 1e9 / peak:.0%} of the matmul peak")
    ratio = statistics.median(r["update"] for r in rounds["TRL"][1:]) / statistics.median(r["update"] for r in rounds["ours"][1:])
    print(f"update phase: ours is {ratio:.2f}x TRL's speed (median over median)")


if __name__ == "__main__":
    main()
