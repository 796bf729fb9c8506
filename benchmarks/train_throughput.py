"""Training throughput: our update step vs TRL's GRPOTrainer on the same model, batch and lengths.

Protocol (research/training.md): both sides load the same safetensors folder through `load_policy` (fp32,
sdpa), torch uses 2 threads (fewer when the cores are busy; `--threads`), single-turn prompts (text-game
turn prompts in SmolLM2's chat template), a constant reward, B prompts × G completions per step, every completion exactly `--completion`
tokens (end-of-text suppressed), no KL (beta = 0), one optimizer step per generation (num_iterations = 1),
token-mean loss (TRL's `dapo` = ours), no entropy term, max grad norm 1, AdamW (torch) at lr 1e-6, no
gradient checkpointing, no bf16, no logging. The steps interleave: after each TRL step our side generates
the same shape and runs a GRPO update and an SDAR update (the teacher scoring with a skill prepended).
The first round is a warm-up and is dropped; figures are medians of the others.

Update phase = a step minus its generation (TRL: `training_step` + optimizer step minus
`_generate_and_score_completions`; ours: `update_step`). Tokens/s count completion tokens, the ones
trained on (every sequence has the same prompt on both sides, so the ratio is the same counted either way).

    uv sync --group bench   # TRL: a benchmark-only dependency
    uv run --frozen python benchmarks/train_throughput.py [--model tiny-random|local/smollm2|PATH] [--steps 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.2
PROTOCOL_THREADS = 2
OBJECTIVE = "Find the golden key and unlock the chest in the cellar."
ADMISSIBLE = ["go north", "go south", "open door", "take key", "look", "inventory"]
SKILL = (
    "# Text-game exploration\n"
    "1. Read the objective and list the objects it names.\n"
    "2. Prefer 'take' on every named object you see before moving on; 'look' after entering a room.\n"
    "3. Doors: 'open door' before 'go'; a locked door needs the key named in the objective.\n"
    "4. Never repeat an action that produced no change twice in a row; try an unexplored exit instead.\n"
    "5. Answer with exactly one admissible action.\n"
)


def build_prompts(tokenizer, count: int) -> tuple[list[list[int]], list[list[int]]]:
    """`count` student turn prompts (different rooms) and the same prompts with the skill prepended."""
    from skillspark.train.prompts import build_turn_prompt

    students, teachers = [], []
    for index in range(count):
        prompt = build_turn_prompt(
            tokenizer,
            objective=OBJECTIVE,
            history=[],
            observation=f"You are in room {index + 1}. It is dusty; an old door leads north and a key lies on the floor.",
            admissible=ADMISSIBLE,
            history_turns=0,
            skill=SKILL,
            max_prompt_tokens=4096,
        )
        students.append(prompt.student_ids)
        teachers.append(prompt.teacher_ids)
    return students, teachers


class Ours:
    """Our side: batched left-padded generation, then `update.update_step` for GRPO and for SDAR."""

    def __init__(self, path: Path, args) -> None:
        import torch

        from skillspark.train.algorithms import AlgoConfig
        from skillspark.train.model import load_policy

        self.model, self.tokenizer = load_policy(path, device="cpu", seed=args.seed)
        self.prompts, self.teacher_prompts = build_prompts(self.tokenizer, args.prompts)
        self.args = args
        sequences = args.prompts * args.group_size
        self.grpo = AlgoConfig(algo="grpo", entropy_coef=0.0, micro_batch_size=sequences)
        self.sdar = AlgoConfig(algo="sdar", entropy_coef=0.0, micro_batch_size=sequences)
        self.optimizer = torch.optim.AdamW([p for p in self.model.parameters() if p.requires_grad], lr=1e-6, weight_decay=0.0)
        self.rounds: list[dict[str, float]] = []

    def generate(self) -> list[list[int]]:
        import torch
        from transformers import GenerationConfig

        prompts = [p for p in self.prompts for _ in range(self.args.group_size)]
        width = max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
        attention_mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        length = self.args.completion
        config = GenerationConfig(max_new_tokens=length, min_new_tokens=length, do_sample=True, temperature=1.0,
                                  top_k=None, top_p=None, pad_token_id=pad, eos_token_id=self.tokenizer.eos_token_id)
        with torch.no_grad():
            output = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, generation_config=config)
        return output[:, width:].tolist()

    def round(self) -> None:
        from skillspark.train.batch import TurnSample
        from skillspark.train.update import update_step

        started = time.perf_counter()
        completions = self.generate()
        generation_s = time.perf_counter() - started
        g = self.args.group_size
        samples = [
            TurnSample(self.prompts[i // g], completion, 1.0, f"prompt-{i // g}", f"prompt-{i // g}/{i % g}", self.teacher_prompts[i // g])
            for i, completion in enumerate(completions)
        ]
        pad = self.tokenizer.pad_token_id
        started = time.perf_counter()
        update_step(self.model, self.optimizer, samples, self.grpo, pad_id=pad)
        grpo_s = time.perf_counter() - started
        started = time.perf_counter()
        stats = update_step(self.model, self.optimizer, samples, self.sdar, pad_id=pad)
        sdar_s = time.perf_counter() - started
        self.rounds.append({
            "tokens": float(sum(len(c) for c in completions)),
            "generation_s": generation_s,
            "update_s": grpo_s,
            "sdar_update_s": sdar_s,
            "teacher_s": stats["teacher_forward_s"],
        })
        print(f"round {len(self.rounds) - 1}: ours generation {generation_s:.2f} s, GRPO update {grpo_s:.2f} s, "
              f"SDAR update {sdar_s:.2f} s", file=sys.stderr, flush=True)


def trl_trainer(path: Path, prompts_text: list[str], args, after_step, output_dir: str):
    """TRL's GRPOTrainer set to the protocol, timing its generation phase and whole steps."""
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from skillspark.train.model import load_policy

    model, tokenizer = load_policy(path, device="cpu", seed=args.seed)
    config = GRPOConfig(
        output_dir=output_dir,
        per_device_train_batch_size=args.prompts * args.group_size,
        num_generations=args.group_size,
        steps_per_generation=1,
        gradient_accumulation_steps=1,
        num_iterations=1,
        max_completion_length=args.completion,
        generation_kwargs={"min_new_tokens": args.completion},
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        beta=0.0,
        loss_type="dapo",
        mask_truncated_completions=False,
        learning_rate=1e-6,
        weight_decay=0.0,
        max_grad_norm=1.0,
        optim="adamw_torch",
        gradient_checkpointing=False,
        bf16=False,
        fp16=False,
        use_cpu=not torch.cuda.is_available(),
        max_steps=args.steps + 1,
        shuffle_dataset=False,
        logging_strategy="no",
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        log_completions=False,
        dataloader_num_workers=0,
        seed=args.seed,
    )
    rounds: list[dict[str, float]] = []
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=lambda completions, **_: [1.0] * len(completions),
        args=config,
        train_dataset=Dataset.from_dict({"prompt": prompts_text}),
        processing_class=tokenizer,
    )
    generate = trainer._generate_and_score_completions
    current: dict[str, float] = {}

    def timed_generate(inputs):
        started = time.perf_counter()
        output = generate(inputs)
        current["generation_s"] = time.perf_counter() - started
        current["tokens"] = float(output["completion_mask"].sum())
        return output

    trainer._generate_and_score_completions = timed_generate

    class Interleave(TrainerCallback):
        def on_step_begin(self, *_, **__):
            current.clear()
            current["started"] = time.perf_counter()

        def on_step_end(self, *_, **__):
            step_s = time.perf_counter() - current.pop("started")
            rounds.append(current | {"update_s": step_s - current["generation_s"]})
            print(f"round {len(rounds) - 1}: TRL generation {current['generation_s']:.2f} s, "
                  f"update {step_s - current['generation_s']:.2f} s", file=sys.stderr, flush=True)
            after_step()

    trainer.add_callback(Interleave())
    return trainer, rounds


def median(rounds: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rounds[1:])  # round 0 is the warm-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-random", help="tiny-random | local/smollm2 | a local HF folder")
    parser.add_argument("--prompts", type=int, default=2, help="B: distinct prompts per step")
    parser.add_argument("--group-size", type=int, default=2, help="G: completions per prompt")
    parser.add_argument("--completion", type=int, default=16, help="tokens per completion (fixed)")
    parser.add_argument("--steps", type=int, default=5, help="measured steps per side, after one warm-up")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"torch threads (default: {PROTOCOL_THREADS}, fewer when cores are busy)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch
    import transformers

    try:
        import trl
    except ImportError:
        raise SystemExit("TRL is missing: it is the baseline of this benchmark; run `uv sync --group bench` first") from None
    from skillspark.llm.local_server import default_threads
    from skillspark.train.model import resolve_model

    transformers.utils.logging.disable_progress_bar()
    # torch's OpenMP threads spin while they wait for each other: on a 2-core box at load 10, 2 threads
    # generated 5-16x slower than 1 (measured), so by default only idle cores are used, as llama.cpp's are
    args.threads = args.threads or min(PROTOCOL_THREADS, default_threads())
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    path = resolve_model(args.model)
    ours = Ours(path, args)
    tokenizer, students, teachers = ours.tokenizer, ours.prompts, ours.teacher_prompts
    texts = [tokenizer.decode(ids) for ids in students]
    if [tokenizer.encode(t, add_special_tokens=False) for t in texts] != students:
        raise SystemExit("the prompt texts TRL gets do not re-encode to our prompt ids; the sides would differ")
    load_at_start = os.getloadavg()[0]

    with tempfile.TemporaryDirectory() as output_dir:
        trainer, trl_rounds = trl_trainer(path, texts, args, ours.round, output_dir)
        trainer.train()

    load = f"{load_at_start:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    sequences = args.prompts * args.group_size
    params = sum(p.numel() for p in ours.model.parameters())
    prompt_tokens = statistics.mean(len(p) for p in students)
    skill_tokens = statistics.mean(len(t) - len(s) for s, t in zip(students, teachers))
    print(f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
          f"({args.threads} threads), transformers {transformers.__version__}, TRL {trl.__version__}, load average {load}")
    print(f"model: {args.model} ({params / 1e6:.1f} M parameters, fp32, sdpa) from {path}")
    print(f"batch: {args.prompts} prompts x {args.group_size} = {sequences} sequences, prompt {prompt_tokens:.0f} tokens, "
          f"completion {args.completion} tokens (fixed); teacher prompt +{skill_tokens:.0f} skill tokens; "
          f"median of {len(ours.rounds) - 1} interleaved steps after 1 warm-up")
    tokens = {side: {r["tokens"] for r in rounds} for side, rounds in (("ours", ours.rounds), ("TRL", trl_rounds))}
    if tokens["ours"] != tokens["TRL"] or len(tokens["ours"]) != 1:
        print(f"WARNING: completion tokens per step differ: {tokens}")
    completion_tokens = sequences * args.completion

    ours_update = completion_tokens / median(ours.rounds, "update_s")
    trl_update = completion_tokens / median(trl_rounds, "update_s")
    ratio = ours_update / trl_update
    verdict = "PASS" if ratio >= TARGET_RATIO else "BELOW TARGET"
    print(f"update phase: ours {ours_update:.1f} tok/s ({median(ours.rounds, 'update_s'):.2f} s/step), "
          f"TRL GRPOTrainer {trl_update:.1f} tok/s ({median(trl_rounds, 'update_s'):.2f} s/step): "
          f"{ratio:.2f}x [target >= {TARGET_RATIO}x: {verdict}]")
    print(f"generation: ours {completion_tokens / median(ours.rounds, 'generation_s'):.1f} tok/s "
          f"({median(ours.rounds, 'generation_s'):.2f} s/step), TRL {completion_tokens / median(trl_rounds, 'generation_s'):.1f} tok/s "
          f"({median(trl_rounds, 'generation_s'):.2f} s/step)")
    grpo_s, sdar_s, teacher_s = (median(ours.rounds, k) for k in ("update_s", "sdar_update_s", "teacher_s"))
    print(f"SDAR: update {sdar_s:.2f} s/step vs GRPO {grpo_s:.2f} s/step (+{(sdar_s / grpo_s - 1) * 100:.0f}%); "
          f"teacher forward {teacher_s:.2f} s/step ({teacher_s / grpo_s * 100:.0f}% of a GRPO update)")


if __name__ == "__main__":
    main()
