"""`python -m skillspark.train ...` (and `accelerate launch -m skillspark.train ...`): the `train` commands.

Errors a user can cause end as one line and exit 2 on every process, as with `skillspark train`.
"""

from skillspark.errors import UserError, print_error
from skillspark.train.commands import app

try:
    app(prog_name="skillspark-train")
except UserError as exc:
    print_error(str(exc))
    raise SystemExit(exc.exit_code) from None
