"""Do teacher-side methods learn faster where the teacher knows more? Sample-efficiency curves on fake:codeword.

    .venv/bin/python benchmarks/train_learning.py                       # SmolLM2 (LoRA), the 7 variants, 3 seeds
    .venv/bin/python benchmarks/train_learning.py --algos grpo,sdar:1 --seeds 2 --steps 6   # what a busy 2-core box fits
    .venv/bin/python benchmarks/train_learning.py --model tiny-random --steps 2 --seeds 1 --algos grpo,sdar   # a smoke run

tiny-random never writes a valid action, so every reward is the same, every advantage 0 and nothing can
learn: use it only to check the harness. The instrument's positive control (a planted teacher that knows the
door, and a planted null) is benchmarks/train_control.py (docs/training-control.md). On SmolLM2 the teacher check passes (16/16 with the skill, 5/16
without; docs/training-decisive.md), but a step costs minutes on a loaded 2-core machine: the default
matrix needs an idle machine or a GPU.

The game (docs/training-decisive.md): each password is a rule whose SKILL.md names the door; validation
games use passwords never seen in training, so a validation gain is transfer of the procedure the skills
teach, not memorised passwords. First the teacher check: the untrained policy with each game's skill
(keyword retrieval) and without it, on validation games, with Wilson intervals. Then `train compare`:
each (variant, seed) trains; every `--val-every` steps it plays the validation games greedily; the curves
are means over seeds with a pooled Wilson band; the verdicts compare final success with GRPO, paired by
seed; the diagnostics (gate, Δ, |λ·g|/|A|, clip fraction, KL; means over steps) say why a method moved.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

VARIANTS = "grpo,sdar:0.01,sdar:0.1,sdar:1,skillsd,rlsd,opsd"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local/smollm2", help="local/smollm2 (LoRA) or tiny-random (full weights; harness check only)")
    parser.add_argument("--game", default="fake:codeword?options=4&rules=8&held_out=8")
    parser.add_argument("--algos", default=VARIANTS, help="the first is the baseline; ALGO:λ sets the distillation weight")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--games", type=int, default=2)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--max-turns", type=int, default=1)
    parser.add_argument("--ppo-mini-batch", type=int, default=4, help="turn samples per optimizer step (2 steps per default batch, so the clip can bind)")
    parser.add_argument("--lr", type=float, default=None, help="default 1e-3 (LoRA on SmolLM2, as the earlier benchmark)")
    parser.add_argument("--val-every", type=int, default=4)
    parser.add_argument("--val-games", type=int, default=16)
    parser.add_argument("--teacher-check-games", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "train_learning")
    args = parser.parse_args()

    import torch

    from skillspark.train.compare import parse_algos, render_table, run_compare
    from skillspark.train.config import TrainConfig
    from skillspark.train.envs.codeword import write_codeword_skills
    from skillspark.train.envs.registry import codeword_spec

    torch.set_num_threads(2)
    spec = codeword_spec(args.game)
    skills = Path(tempfile.mkdtemp(prefix="train-learning-")) / "skills"
    write_codeword_skills(spec, skills)
    started, load_before = time.perf_counter(), os.getloadavg()

    lora = args.model != "tiny-random"
    base = TrainConfig(
        game=args.game, model=args.model, lora=lora, steps=args.steps, games=args.games, group_size=args.group_size,
        max_turns=args.max_turns, max_new_tokens=8, lr=args.lr or 1e-3, ppo_mini_batch=args.ppo_mini_batch, skills=skills, retrieval="keyword",
        teacher_check_games=args.teacher_check_games, val_every=args.val_every, val_games=args.val_games,
        save_every=args.steps, output=args.out,
    )
    summary = run_compare(base, parse_algos(args.algos), args.seeds, args.val_games, args.out)
    check = json.loads((args.out / "teacher_check.json").read_text())
    print(f"{args.model} on {args.game}: {args.steps} steps × {args.games} games × {args.group_size} episodes, "
          f"lr {base.lr}, {'LoRA' if lora else 'full weights'}, {args.seeds} seeds")
    print(f"teacher check: with the skill {check['teacher']['rate']:.3f} {check['teacher']['wilson_95']}, "
          f"without {check['student']['rate']:.3f} {check['student']['wilson_95']}, passed: {check['passed']}")
    print(render_table(summary))
    load_after = os.getloadavg()
    print(f"curves: {args.out / 'validation_curves.png'}; total {time.perf_counter() - started:.0f} s; "
          f"load average {load_before[0]:.1f} at start, {load_after[0]:.1f} at the end ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
