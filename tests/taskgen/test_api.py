"""The Python API of `skillspark tasks` (`check_tasks`, `audit_tasks`) writes what the CLI writes.

The bundled hello-greeting task is checked and audited twice, through the API in this process and through
the real entry point (`cli.main`); the oracle and nop trials are real Harbor trials in the local sandbox.
Compared: the JSON reports, apart from timings and the paths of trial folders.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from rich.console import Console

from skillspark.errors import UserError
from tests.taskgen.test_check_cli import run_cli

pytestmark = pytest.mark.timeout(600)

TASK = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "hello-greeting"
GATES = ["schema", "lint", "oracle", "nop", "dedup"]  # the trial gates that need no probe measurements
SECONDS = re.compile(r"\d+(\.\d+)? s\b")


def quiet() -> Console:
    return Console(file=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process


def untimed(value):
    """A JSON report without what differs between two runs of the same work: seconds and trial folders."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in ("duration_s", "build_s", "trial_dir", "trials_dir")}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return SECONDS.sub("N s", value) if isinstance(value, str) else value


def test_audit_through_the_api_writes_what_the_cli_writes(tmp_path, monkeypatch, capsys):
    from skillspark import AuditConfig, audit_tasks

    config = AuditConfig(gates=GATES, json_path=tmp_path / "api.json", trials_dir=tmp_path / "api-trials")
    report = audit_tasks([TASK], config, console=quiet())
    assert report.exit_code == 0 and [t.verdict for t in report.tasks] == ["accepted"]
    assert list(report.tasks[0].gates) == GATES
    assert (tmp_path / "api-trials" / "trials").is_dir()  # the oracle and nop trial folders

    flags = [arg for gate in GATES for arg in ("--gates", gate)]
    code, out, _ = run_cli(["tasks", "audit", str(TASK), *flags, "--json", str(tmp_path / "cli.json"),
                            "--trials-dir", str(tmp_path / "cli-trials")], monkeypatch, capsys)
    assert code == 0, out
    api, shell = (json.loads((tmp_path / name).read_text()) for name in ("api.json", "cli.json"))
    assert untimed(api) == untimed(shell)
    nop = api["tasks"][0]["gates"]["nop"]
    assert nop["ok"] and nop["detail"].startswith("untouched environment scores 0")


def test_check_through_the_api_writes_what_the_cli_writes(tmp_path, monkeypatch, capsys):
    from skillspark import CheckConfig, check_tasks

    config = CheckConfig(json_path=tmp_path / "api.json", trials_dir=tmp_path / "api-trials")
    report = check_tasks([TASK], config, console=quiet())
    assert (report.exit_code, report.counts["valid"]) == (0, 1)

    code, out, _ = run_cli(["tasks", "check", str(TASK), "--json", str(tmp_path / "cli.json"),
                            "--trials-dir", str(tmp_path / "cli-trials")], monkeypatch, capsys)
    assert code == 0, out
    api, shell = (json.loads((tmp_path / name).read_text()) for name in ("api.json", "cli.json"))
    assert untimed(api) == untimed(shell)
    [task] = api["tasks"]
    assert (task["verdict"], task["oracle"]["reward"], task["nop"]["reward"]) == ("valid", 1.0, 0.0)
    assert Path(task["oracle"]["trial_dir"]).parent == tmp_path / "api-trials"


def test_a_config_refuses_an_unknown_gate_with_the_commands_line():
    from skillspark import AuditConfig

    with pytest.raises(UserError, match="unknown gate.s. speed; repeat --gates with any of schema, lint"):
        AuditConfig(gates=["schema", "speed"])
    assert AuditConfig(gates=["dedup", "schema"]).gates == ["schema", "dedup"]  # run order


def test_the_old_comma_form_of_gates_still_works_and_warns(tmp_path, monkeypatch, capsys):
    code, out, err = run_cli(["tasks", "audit", str(TASK), "--gates", "dedup,schema", "--trials-dir", str(tmp_path)],
                             monkeypatch, capsys)
    assert code == 0, out
    assert "warning: --gates dedup,schema: comma-separated lists are deprecated; repeat the flag instead " \
           "(--gates dedup --gates schema)" in err
    assert "1 task(s): 1 accepted, 0 rejected" in out
