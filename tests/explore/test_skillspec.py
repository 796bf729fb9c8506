"""The Agent Skills validator, its CLI, frontmatter edits, and the distiller's deterministic repair."""

import os
import subprocess
import sys

from skillspark.core.skillspec import check_name, check_skill_text, set_frontmatter, split_frontmatter
from skillspark.explore.distill import repair, sanitize, skill_name

GOOD = "---\nname: csv-report\ndescription: Build CSV reports. Use when a task asks for a CSV summary.\n---\n# Steps\n1. run\n"


def fields(text, folder="csv-report"):
    return [f for f, _ in check_skill_text(text, folder)]


def test_valid_skill_has_no_problems():
    assert check_skill_text(GOOD, "csv-report") == []


def test_name_rules():
    assert check_name("a") is None and check_name("a1-b2") is None
    for bad in ("", "A-b", "-ab", "ab-", "a--b", "a_b", "x" * 65):
        assert check_name(bad) is not None, bad
    assert check_name("x" * 64) is None
    assert fields(GOOD, "other-folder") == ["name"]


def test_description_license_metadata_unknown_and_body():
    assert fields(GOOD.replace("description: Build", "description: ''\nx: Build")) == ["description", "x"]
    long = GOOD.replace("Build CSV", "B" * 1025)
    assert fields(long) == ["description"]
    assert fields(GOOD.replace("---\n#", "metadata:\n  k: [1]\n---\n#")) == ["metadata"]
    body = GOOD + "line\n" * 500
    assert fields(body) == ["body"]
    assert fields("# no frontmatter\n") == ["frontmatter"]


def test_repair_fixes_frontmatter_deterministically():
    broken = "---\nname: Wrong_Name\ndescription: ''\nauthor: me\n---\n" + "step\n" * 600
    fixed = repair(broken, "csv-report", "Make CSV reports from logs.")
    assert check_skill_text(fixed, "csv-report") == []
    assert "author" not in fixed and "Make CSV reports from logs." in fixed
    assert repair(broken, "csv-report", "Make CSV reports from logs.") == fixed
    no_front = repair("just some text", "csv-report", "Fallback.")
    assert check_skill_text(no_front, "csv-report") == [] and "just some text" in no_front


def test_sanitize_and_skill_name():
    text = "Run test_outputs.py::test_sum; expect 42.125 for test_sum, not 142.1250."
    out = sanitize(text, constants={"42.125"}, test_names=["test_outputs.py::test_sum"])
    assert "test_sum" not in out and "42.125 " not in out and "142.1250" in out
    assert skill_name("My_Task 2!") == "my-task-2" and skill_name("___") == "task-skill"


def test_cli_validate(tmp_path):
    good = tmp_path / "csv-report"
    good.mkdir()
    (good / "SKILL.md").write_text(GOOD)
    run = [sys.executable, "-c", "from skillspark.cli import main; main()", "skills", "validate", str(tmp_path)]
    ok = subprocess.run(run, check=False, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert ok.returncode == 0 and "1 skill(s) valid" in ok.stdout
    bad = tmp_path / "bad-one"
    bad.mkdir()
    (bad / "SKILL.md").write_text(GOOD)
    res = subprocess.run(run, check=False, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert res.returncode == 2
    assert "differs from its folder name" in res.stdout and res.stderr.startswith("error: 1 of 2")


def test_set_frontmatter_appends_new_keys_and_rewrites_on_replace():
    odd = "---\nname: csv-report   # as written\ndescription: 'Build CSV reports.'\n---\n# Steps\n"
    added = set_frontmatter(odd, {"metadata": {"grounding": "model", "count": "2"}})
    assert added == ("---\nname: csv-report   # as written\ndescription: 'Build CSV reports.'\n"
                     "metadata:\n  grounding: model\n  count: '2'\n---\n# Steps\n")
    assert check_skill_text(added, "csv-report") == []
    replaced = set_frontmatter(added, {"description": ""})
    data, body, _ = split_frontmatter(replaced)
    assert data == {"name": "csv-report", "description": "", "metadata": {"grounding": "model", "count": "2"}}
    assert body == "# Steps\n"
    bare = set_frontmatter("# just a body\n", {"name": "x"})
    assert bare == "---\nname: x\n---\n# just a body\n"
