"""The `skillspark` command: one typer sub-app per area; user errors become one line and exit 2.

Area command modules keep heavy imports (litellm, harbor, torch) inside their functions so that
`skillspark --help` stays fast.
"""

from __future__ import annotations

import os
import sys

import typer

from skillspark import config as _config  # noqa: F401  (sets offline env defaults before any import)
from skillspark.errors import ClickException, NoArgsIsHelpError, UsageError, UserError, print_error, usage_error_line
from skillspark.renamed_flags import rename_old_flags

app = typer.Typer(
    name="skillspark",
    help="Turn verified agent trajectories into grounded, reusable skills.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from skillspark.agents import commands as agent_commands
    from skillspark.dashboard import commands as dashboard_commands
    from skillspark.demo import demo
    from skillspark.evaluate import commands as eval_commands
    from skillspark.explore import commands as explore_commands
    from skillspark.llm import commands as llm_commands
    from skillspark.pdi import commands as pdi_commands
    from skillspark.sandbox import commands as sandbox_commands
    from skillspark.taskgen import commands as task_commands
    from skillspark.train import commands as train_commands

    app.add_typer(task_commands.app, name="tasks", help="Check, audit, generate and vary Harbor tasks.")
    app.add_typer(sandbox_commands.app, name="sandbox", help="Run commands in a task's local sandbox.")
    app.add_typer(llm_commands.app, name="model", help="Serve or inspect the embedded local model.")
    app.add_typer(pdi_commands.app, name="pdi", help="Posterior Distillation Index: replay and score.")
    app.add_typer(explore_commands.skills_app, name="skills", help="Validate SKILL.md folders.")
    app.add_typer(eval_commands.app, name="eval", help="A/B-evaluate skills on student agents; `eval report OUT`.")
    app.add_typer(train_commands.app, name="train", help="Train a policy on text or terminal environments (GRPO, SDAR, Skill-SD, RLSD, ...).")
    app.command("run")(agent_commands.run)
    app.command("explore")(explore_commands.explore)
    app.command("demo")(demo)
    app.command("dashboard")(dashboard_commands.dashboard)


_register()


def main(args: list[str] | None = None) -> None:
    """Entry point: run the app; a UserError or a bad flag (click's usage errors) becomes one clear line and
    exit code 2. Click runs non-standalone so that its errors reach us instead of its boxed usage screen."""
    if not sys.stdout.isatty():
        # rich falls back to 80 columns off a terminal, which folds task names and paths in logs
        os.environ.setdefault("COLUMNS", "160")
    args = rename_old_flags(list(sys.argv[1:] if args is None else args))
    try:
        code = app(args=args, prog_name="skillspark", standalone_mode=False)
    except UserError as exc:
        print_error(str(exc))
        raise SystemExit(exc.exit_code) from None
    except NoArgsIsHelpError:
        raise SystemExit(2) from None  # the help is already printed
    except UsageError as exc:
        print_error(usage_error_line(exc))
        raise SystemExit(2) from None
    except ClickException as exc:
        print_error(" ".join(exc.format_message().split()))
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        print("Aborted!", file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)
