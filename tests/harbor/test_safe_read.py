"""TrialReader: regular files under a trial dir are read (bounded); links, FIFOs and hard links are refused."""

import os
import threading
from pathlib import Path

import pytest

from skillspark.harbor.safe_read import TrialReader

MARKER = "HOST-MARKER-4f7a2c"


@pytest.fixture
def host_file(tmp_path: Path) -> Path:
    """A file outside the trial dir that an agent would like the host to read."""
    path = tmp_path / "host" / "secret.txt"
    path.parent.mkdir()
    path.write_text(f'{{"results": {{"tests": [{{"name": "{MARKER}", "status": "failed"}}]}}}}\n')
    return path


@pytest.fixture
def trial(tmp_path: Path) -> Path:
    root = tmp_path / "trial"
    (root / "verifier").mkdir(parents=True)
    (root / "agent").mkdir()
    return root


def test_regular_files_are_read_with_bounds(trial: Path):
    (trial / "verifier" / "test-stdout.txt").write_text("head\n" + "x" * 100_000 + "\nTAIL é")
    (trial / "verifier" / "ctrf.json").write_text('{"results": {"tests": [{"name": "t", "status": "passed"}]}}')
    (trial / "verifier" / "bad.json").write_text("{not json")
    (trial / "verifier" / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    files = TrialReader(trial)
    tail = files.text_tail("verifier/test-stdout.txt", 50)
    assert len(tail) == 50 and tail.endswith("\nTAIL é")
    assert files.json("verifier/ctrf.json")["results"]["tests"][0]["name"] == "t"
    assert files.json("verifier/bad.json") is None
    assert files.json("verifier/deep.json") is None  # RecursionError is "not JSON", not a crash
    assert files.text_tail("verifier/absent.txt", 50) == "" and files.json("nowhere/x.json") is None
    assert files.text("verifier/test-stdout.txt", max_bytes=1000) is None
    assert files.skipped == ["verifier/test-stdout.txt: larger than 1000 bytes"]


def test_symlinked_files_are_skipped_and_reported(trial: Path, host_file: Path):
    for name in ("test-stdout.txt", "ctrf.json"):
        (trial / "verifier" / name).symlink_to(host_file)
    (trial / "agent" / "trajectory.json").symlink_to(host_file)
    files = TrialReader(trial)
    assert files.text_tail("verifier/test-stdout.txt", 1000) == ""
    assert files.json("verifier/ctrf.json") is None
    assert files.text("agent/trajectory.json") is None
    assert files.skipped == [
        "verifier/test-stdout.txt: a symbolic link",
        "verifier/ctrf.json: a symbolic link",
        "agent/trajectory.json: a symbolic link",
    ]


def test_a_symlinked_parent_folder_is_never_entered(tmp_path: Path, host_file: Path):
    trial = tmp_path / "trial"
    trial.mkdir()
    (host_file.parent / "test-stdout.txt").write_text(MARKER)
    (trial / "verifier").symlink_to(host_file.parent)  # /logs/verifier -> a host folder
    (trial / "agent").mkdir()
    (trial / "agent" / "logs").symlink_to(host_file.parent)
    files = TrialReader(trial)
    assert files.text_tail("verifier/test-stdout.txt", 1000) == ""
    assert files.json("verifier/secret.txt") is None
    assert files.file_names("agent/logs", ".txt") == []
    assert files.skipped == [
        "verifier/test-stdout.txt: a symbolic link in its path",
        "verifier/secret.txt: a symbolic link in its path",
        "agent/logs: a symbolic link in its path",
    ]


def test_fifo_does_not_block_and_hard_link_and_folder_are_refused(trial: Path, host_file: Path):
    os.mkfifo(trial / "verifier" / "test-stdout.txt")
    os.link(host_file, trial / "verifier" / "ctrf.json")
    (trial / "agent" / "exit-code.txt").mkdir()
    files = TrialReader(trial)
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(files.text_tail("verifier/test-stdout.txt", 100)))
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive() and result == [""]  # a FIFO with no writer would block a plain open()
    assert files.json("verifier/ctrf.json") is None
    assert files.text("agent/exit-code.txt") is None
    assert files.skipped == [
        "verifier/test-stdout.txt: not a regular file",
        "verifier/ctrf.json: a hard link to another file",
        "agent/exit-code.txt: not a regular file",
    ]


def test_file_names_lists_matching_entries_which_are_then_read_safely(trial: Path, host_file: Path):
    (trial / "agent" / "oracle.txt").write_text("solve.sh: line 3: Killed")
    (trial / "agent" / "planted.txt").symlink_to(host_file)
    (trial / "agent" / "trajectory.json").write_text("{}")
    files = TrialReader(trial)
    names = files.file_names("agent", ".txt")
    assert names == ["agent/oracle.txt", "agent/planted.txt"]
    assert [files.text_tail(n, 100) for n in names] == ["solve.sh: line 3: Killed", ""]
    assert files.skipped == ["agent/planted.txt: a symbolic link"]


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x", "verifier/../../x", ""])
def test_paths_leaving_the_trial_dir_are_a_caller_bug(trial: Path, bad: str):
    with pytest.raises(ValueError, match="relative path"):
        TrialReader(trial).text(bad)


def test_refused_reports_links_but_not_absent_or_regular_files(trial: Path, host_file: Path):
    (trial / "verifier" / "reward.txt").symlink_to(host_file)
    (trial / "verifier" / "reward.json").write_text('{"reward": 1}')
    files = TrialReader(trial)
    assert [files.refused(f"verifier/{n}") for n in ("reward.txt", "reward.json", "absent")] == [True, False, False]
    assert files.skipped == ["verifier/reward.txt: a symbolic link"]
