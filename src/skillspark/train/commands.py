"""`skillspark train ...`: prepare a trainable model, train a policy with GRPO/OPSD/SDAR, evaluate it.

torch, transformers and peft are imported inside the commands only, so `skillspark --help` stays light.
"""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
