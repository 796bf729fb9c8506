"""Do the algorithms learn? Success on fixed validation games before and after N steps, several seeds each.

    .venv/bin/python benchmarks/train_learning.py                        # SmolLM2 (LoRA) on fake:choice
    .venv/bin/python benchmarks/train_learning.py --algos grpo,sdar,skillsd,rlsd
    .venv/bin/python benchmarks/train_learning.py --model tiny-random --steps 2 --seeds 1   # a smoke run

"Before" is the untrained policy on the validation games (greedy, so one number), alone and with the
skill in its prompt (what the teacher sees). "After" is `train compare`: each (algorithm, seed) trains,
then its final checkpoint plays the same games; the table has 95% t-intervals over seeds and the
verdicts compare each algorithm with the first one, paired by seed. The seed paper's claim
(SDAR > GRPO) is contested (research/training.md): this prints what it measures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="local/smollm2")
    parser.add_argument("--env", default="fake:choice?turns=1&options=3")
    parser.add_argument("--algos", default="grpo,sdar")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--games", type=int, default=2)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--max-turns", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--eval-episodes", type=int, default=30)
    parser.add_argument("--retrieval-ablation", action="store_true",
                        help="also run --ablation-algo with each retrieval strategy (keyword, full, random, ucb)")
    parser.add_argument("--ablation-algo", default="sdar")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "train_learning")
    args = parser.parse_args()

    import torch

    from skillspark.train.compare import parse_algos, render_table, run_compare
    from skillspark.train.config import TrainConfig
    from skillspark.train.envs.fake import write_fake_skill
    from skillspark.train.evaluation import evaluate_policy
    from skillspark.train.model import load_policy, resolve_model

    torch.set_num_threads(2)
    family, name = args.env.split("?")[0].split(":")
    if family != "fake":
        raise SystemExit("this benchmark writes the skill of a fake game; pass --env fake:choice or fake:corridor")
    skills = Path(tempfile.mkdtemp(prefix="train-learning-")) / "skills"
    write_fake_skill(name, skills)
    for other in ("choice", "corridor"):  # a second, irrelevant skill gives the retrieval strategies a choice
        if other != name:
            write_fake_skill(other, skills)
    started = time.perf_counter()

    model, tokenizer = load_policy(resolve_model(args.model))
    plain = evaluate_policy(model, tokenizer, args.env, args.eval_episodes, max_turns=args.max_turns, skills=None)
    skilled = evaluate_policy(model, tokenizer, args.env, args.eval_episodes, max_turns=args.max_turns, skills=skills)
    del model
    print(f"{args.model} on {args.env}, {args.eval_episodes} validation games")
    print(f"before training: success {plain['success_rate']:.3f} {plain['wilson_95']}, invalid actions {plain['invalid_rate']:.2f}; "
          f"with the skill in its prompt: {skilled['success_rate']:.3f} {skilled['wilson_95']}", flush=True)

    base = TrainConfig(
        env=args.env, model=args.model, lora=args.model != "tiny-random", steps=args.steps, games=args.games,
        group_size=args.group_size, max_turns=args.max_turns, max_new_tokens=8, lr=args.lr, skills=skills,
        save_every=args.steps, output=args.out,
    )
    if args.algos:  # --algos "" runs only the retrieval ablation
        summary = run_compare(base, parse_algos(args.algos), args.seeds, args.eval_episodes, args.out)
        print(render_table(summary))
    if args.retrieval_ablation:
        ablation = base.model_copy(update={"algo": args.ablation_algo})
        summary = run_compare(ablation, ["keyword", "full", "random", "ucb"], args.seeds, args.eval_episodes,
                              args.out / "retrieval", vary="retrieval")
        print(render_table(summary))
    print(f"curves: {args.out / 'compare.png'}; total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
