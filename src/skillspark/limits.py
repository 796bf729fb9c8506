"""Upper bounds on the counts a user types on the command line.

Why: a typo (`-k 1000000000`) must fail at once with one `error:` line, not grow a plan of trials
until memory runs out. Each bound is far above any real use; the CLI declares it on the option, so
`--help` shows it.
"""

MAX_TRIALS_PER_TASK = 1000  # -k: trials per task (and per arm and model in an eval)
MAX_PARALLELISM = 256  # -p: trials or tasks at once
MAX_SEED = 2**32 - 1  # --seed: what numpy and torch accept
