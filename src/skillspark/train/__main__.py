"""`python -m skillspark.train ...` (and `accelerate launch -m skillspark.train ...`): the `train` commands.

The same entry point as `skillspark train ...` (cli.main), so renamed flags still work with their warning
and every error a user can cause ends as one line and exit 2, on every process.
"""

import sys

from skillspark.cli import main

main(["train", *sys.argv[1:]])
