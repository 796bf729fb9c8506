"""Text environments of the trainer: TextWorld generation time per game, and steps/s for every family.

Generation: N fresh games per TextWorld game type into an empty temp cache (the one-off cost of a new
game seed; a cached game only costs loading). Steps/s: episodes played through the env protocol
(`make_env` → reset → step), half walkthrough commands (winning) and half random admissible commands
(long wandering episodes, the usual case for an untrained policy), action parsing included.

    uv run --frozen python benchmarks/train_envs.py [--games 3] [--steps 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from skillspark.train.envs.registry import make_env

TEXTWORLD = [
    "textworld:tw-simple?rewards=dense",
    "textworld:coin_collector?level=5",
    "textworld:treasure_hunter?level=5",
    "textworld:cooking?recipe=2&take=1&go=6&open=true&cut=true&cook=true",
]
FAKE = ["fake:choice?turns=5&options=4", "fake:corridor?length=10"]


def steps_per_second(spec: str, seeds: list[int], cache: Path, budget: int) -> float:
    """Env steps per second over episodes of the given games until `budget` steps, max 50 turns each."""
    rng = random.Random(0)
    envs = [make_env(spec, seed, cache_dir=cache) for seed in seeds]
    steps, elapsed, episode = 0, 0.0, 0
    while steps < budget:
        env = envs[episode % len(envs)]
        walk = env.walkthrough() if episode % 2 == 0 else None
        start = time.perf_counter()
        observation = env.reset()
        admissible = observation.admissible
        for turn in range(50):
            action = walk[turn] if walk is not None else rng.choice(admissible)
            result = env.step(action)
            steps += 1
            admissible = result.admissible
            if result.done or (walk is not None and turn + 1 == len(walk)):
                break
        elapsed += time.perf_counter() - start
        episode += 1
    for env in envs:
        env.close()
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=3, help="fresh TextWorld games generated per game type")
    parser.add_argument("--steps", type=int, default=2000, help="env steps measured per game type")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, load {load:.1f}, python {platform.python_version()}")
    print(f"{'game type':<72} {'generate s/game':>16} {'load s':>8} {'steps/s':>9}")
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        for spec in TEXTWORLD:
            seeds = list(range(args.games))
            times = []
            for seed in seeds:
                start = time.perf_counter()
                make_env(spec, seed, cache_dir=cache).close()
                times.append(time.perf_counter() - start)
            start = time.perf_counter()
            make_env(spec, seeds[0], cache_dir=cache).close()
            load = time.perf_counter() - start
            rate = steps_per_second(spec, seeds, cache, args.steps)
            print(f"{spec:<72} {statistics.median(times):>16.2f} {load:>8.3f} {rate:>9.0f}")
        for spec in FAKE:
            rate = steps_per_second(spec, list(range(args.games)), cache, args.steps * 10)
            print(f"{spec:<72} {'-':>16} {'-':>8} {rate:>9.0f}")


if __name__ == "__main__":
    main()
