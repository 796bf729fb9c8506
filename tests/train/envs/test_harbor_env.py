"""`harbor:PATH` training envs: commands in the local sandbox, the verifier's reward at the end, as `skillspark run`."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import psutil
import pytest
from harbor.environments.base import ExecResult

from skillspark.errors import UserError
from skillspark.harbor.trials import NOP, ORACLE, run_trial
from skillspark.train.envs.harbor_env import EMPTY_COMMAND, OUTPUT_TAIL_CHARS, parse_command, show_output
from skillspark.train.envs.registry import make_env, parse_env_spec
from tests.agents.greet_task import make_task

EXAMPLES = Path(__file__).parents[3] / "examples" / "tasks"


@pytest.fixture
def greet(tmp_path: Path) -> Path:
    """A task whose verifier is plain bash, so a whole episode takes about a second."""
    return make_task(tmp_path / "tasks")


def oracle_commands(task: Path) -> list[str]:
    """The oracle's solve.sh as single commands (the shebang, `set` lines and comments dropped)."""
    lines = (task / "solution" / "solve.sh").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith(("#", "set "))]


def trial_reward(task: Path, agent, trials_dir: Path) -> float | None:
    outcome = asyncio.run(run_trial(task, agent=agent, trials_dir=trials_dir))
    assert outcome.status == "ok", outcome.exception_message
    return outcome.reward


def descendants() -> set[int]:
    """Our process tree (other tests' servers may live on in it: compare, never expect it empty)."""
    return {child.pid for child in psutil.Process().children(recursive=True)}


def play(spec: str, actions: list[str]):
    env = make_env(spec, 0)
    try:
        env.reset()
        return [env.step(action) for action in actions], env.outcome
    finally:
        env.close()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("ls -la", ("ls -la", False)),
        ("$ cat /app/greeting.txt", ("cat /app/greeting.txt", False)),
        ("Let me look.\n```bash\n$ ls /app\npwd\n```\nThen more.", ("ls /app\npwd", False)),
        ("```sh\necho hello > /app/greeting.txt", ("echo hello > /app/greeting.txt", False)),  # cut off inside
        ("```bash\necho hi > f\nsubmit\n```", ("echo hi > f", True)),
        ("submit", ("", True)),
        ("  exit  \n", ("", True)),
        ("exit 3", ("exit 3", False)),
        ("", ("", False)),
        ("```\n\n```", ("", False)),
    ],
)
def test_replies_become_one_command_and_a_submit_flag(reply: str, expected: tuple[str, bool]) -> None:
    assert parse_command(reply) == expected


def test_observations_show_the_exit_code_and_the_tail_of_the_output() -> None:
    assert show_output(ExecResult(stdout="", stderr="", return_code=0)) == "exit code 0\n(no output)"
    assert show_output(ExecResult(stdout="out\n", stderr="err", return_code=2)) == "exit code 2\nout\nerr"
    long = show_output(ExecResult(stdout="x" * 1000 + "THE END", stderr=None, return_code=1))
    assert long.endswith("THE END") and "characters cut" in long
    assert len(long) < OUTPUT_TAIL_CHARS + 60


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("no/such/dir", "no/such/dir in game spec .* is not a directory: pass a Harbor task dir"),
        ("empty", "empty in game spec .* holds no Harbor task"),
    ],
)
def test_a_bad_path_is_one_user_error_line(tmp_path: Path, where: str, message: str) -> None:
    (tmp_path / "empty" / "notes").mkdir(parents=True)
    for call in (lambda: parse_env_spec(f"harbor:{tmp_path / where}"), lambda: make_env(f"harbor:{tmp_path / where}", 0)):
        with pytest.raises(UserError, match=message) as caught:
            call()
        assert "\n" not in str(caught.value)


def test_a_broken_task_is_one_user_error_line(tmp_path: Path) -> None:
    task = make_task(tmp_path)
    (task / "instruction.md").unlink()
    with pytest.raises(UserError, match="task greet: .*instruction.md") as caught:
        make_env(f"harbor:{task}", 0)
    assert "\n" not in str(caught.value)


def test_the_game_seed_picks_a_task_by_name_and_the_path_keeps_its_case(tmp_path: Path) -> None:
    root = tmp_path / "Tasks"
    for name in ("b-task", "a-task"):
        make_task(root, name)
    (root / "notes").mkdir()  # not a task: never picked
    spec = parse_env_spec(f"harbor:{root}?turns=3")
    assert spec.name == str(root) and spec.knobs == {"turns": 3, "timeout": 60}
    picked = [make_env(f"harbor:{root}?turns=3", seed).game_id.rsplit("#", 1)[1] for seed in range(4)]
    assert picked == ["a-task", "b-task", "a-task", "b-task"]
    with pytest.raises(UserError, match="use turns=1-1000"):
        parse_env_spec(f"harbor:{root}?turns=0")


def test_the_oracle_commands_win_as_the_oracle_trial_does(greet: Path, tmp_path: Path) -> None:
    steps, outcome = play(f"harbor:{greet}", ["ls /tests /solution", *oracle_commands(greet), "cat /app/greeting.txt", "submit"])
    assert steps[0].observation.startswith("exit code 2") and "/tests" in steps[0].observation  # tests come only at verification
    assert steps[-2].observation == "exit code 0\nhello" and not steps[-2].done
    assert all(not step.done and step.reward == 0.0 and step.admissible == [] for step in steps[:-1])
    last = steps[-1]
    assert last.done and last.won and last.reward == 1.0 and not last.invalid
    assert outcome is not None and outcome.status == "ok"
    assert last.reward == trial_reward(greet, ORACLE, tmp_path / "trials")


def test_true_then_submit_scores_zero_as_the_nop_trial_does(greet: Path, tmp_path: Path) -> None:
    steps, _ = play(f"harbor:{greet}", ["true", "submit"])
    assert steps[0].observation == "exit code 0\n(no output)"
    assert steps[1].done and not steps[1].won and steps[1].reward == 0.0
    assert steps[1].reward == trial_reward(greet, NOP, tmp_path / "trials")


def test_the_turn_limit_verifies_and_an_empty_reply_is_an_invalid_turn(greet: Path) -> None:
    steps, _ = play(f"harbor:{greet}?turns=3", ["", "```bash\necho hello > /app/greeting.txt\n```", "echo done"])
    assert steps[0] == steps[0].__class__(EMPTY_COMMAND, 0.0, False, False, [], True)
    assert not steps[1].done
    assert steps[2].done and steps[2].won and steps[2].reward == 1.0
    assert steps[2].observation.startswith("exit code 0\ndone") and "turn limit" in steps[2].observation
    steps, _ = play(f"harbor:{greet}?turns=1", [""])  # an empty last turn still ends the episode, verified
    assert steps[0].done and steps[0].invalid and steps[0].reward == 0.0


def test_a_slow_command_is_killed_at_the_timeout_knob(greet: Path) -> None:
    steps, _ = play(f"harbor:{greet}?timeout=1", ["echo started; sleep 30", "submit"])
    assert steps[0].observation.startswith("exit code 124") and "started" in steps[0].observation


def test_the_task_time_limit_ends_the_episode_with_the_verifier_reward(greet: Path) -> None:
    config = greet / "task.toml"  # the trainer's thinking time counts, as a model's does in `skillspark run`
    config.write_text(config.read_text().replace("[agent]\ntimeout_sec = 120.0", "[agent]\ntimeout_sec = 2.0"))
    env = make_env(f"harbor:{greet}", 0)
    try:
        env.reset()
        assert not env.step("echo hello > /app/greeting.txt").done
        time.sleep(3)
        last = env.step("echo more")
    finally:
        env.close()
    assert last.done and last.reward == 1.0 and "agent_timeout" in last.observation
    assert env.outcome is not None and env.outcome.status == "agent_timeout"


def test_an_environment_that_does_not_build_is_one_user_error_line(tmp_path: Path) -> None:
    task = make_task(tmp_path, dockerfile_extra="RUN echo boom >&2; exit 3\n")
    before = descendants()
    env = make_env(f"harbor:{task}", 0)
    try:
        with pytest.raises(UserError, match=r"did not start \(infra_error, .*exit 3.*skillspark sandbox exec") as caught:
            env.reset()
    finally:
        env.close()
    assert "\n" not in str(caught.value)
    assert descendants() <= before


def test_reset_starts_afresh_and_close_leaves_no_process_thread_or_trial_dir(greet: Path) -> None:
    threads, before = set(threading.enumerate()), descendants()
    env = make_env(f"harbor:{greet}", 0)
    env.reset()
    env.step("echo hello > /app/greeting.txt; sleep 300 &")
    assert descendants() - before  # the sandbox (and its background sleep) runs
    first = env.reset()  # abandons the running trial unverified: a fresh sandbox, the same objective
    assert first.admissible == [] and "greeting.txt" in first.objective
    assert env.step("cat /app/greeting.txt").observation.startswith("exit code 1")
    trials_dir = env._trials_dir
    env.close()
    assert descendants() <= before
    for cleanup in [t for t in threading.enumerate() if t.name == "sandbox-cleanup"]:
        cleanup.join(timeout=60)  # the sandbox removes its state folder off the trial's path; it must end
    assert set(threading.enumerate()) <= threads
    assert trials_dir is not None and not trials_dir.exists()
    env.close()  # twice is harmless


def test_a_tiny_random_policy_plays_a_few_turns(greet: Path) -> None:
    from skillspark.train.config import RolloutConfig
    from skillspark.train.model import load_policy, tiny_random_model_dir
    from skillspark.train.rollout import collect

    model, tokenizer = load_policy(tiny_random_model_dir(), seed=0)
    before = descendants()
    cfg = RolloutConfig(group_size=1, max_turns=2, max_new_tokens=12)
    result = collect(model, tokenizer, f"harbor:{greet}?turns=2&timeout=5", [0], cfg, None)
    (episode,) = result.episodes
    assert 1 <= len(episode.responses) <= 2 and len(result.samples) == len(episode.responses)
    outcome = episode.env.outcome  # the env verified on the policy's last turn, as `skillspark run` would
    assert outcome is not None and outcome.status == "ok"
    assert episode.score == outcome.reward and episode.won == (outcome.reward >= 1.0)
    assert descendants() <= before


def test_when_the_trainers_turn_budget_runs_out_first_the_env_still_verifies(greet: Path) -> None:
    from skillspark.train.config import RolloutConfig
    from skillspark.train.model import load_policy, tiny_random_model_dir
    from skillspark.train.rollout import collect

    model, tokenizer = load_policy(tiny_random_model_dir(), seed=0)
    cfg = RolloutConfig(group_size=1, max_turns=1, max_new_tokens=6)
    result = collect(model, tokenizer, f"harbor:{greet}?timeout=5", [0], cfg, None)  # env's own limit: 8 turns
    (episode,) = result.episodes
    assert len(episode.responses) == 1
    outcome = episode.env.outcome
    assert outcome is not None and outcome.status == "ok"  # finish() verified it
    assert episode.score == outcome.reward and episode.won == (outcome.reward >= 1.0)


@pytest.mark.slow
@pytest.mark.parametrize(("agent", "commands"), [(ORACLE, None), (NOP, ["true"])])
def test_the_example_task_rewards_as_its_oracle_and_nop_trials(tmp_path: Path, agent, commands) -> None:
    task = EXAMPLES / "hello-greeting"
    steps, _ = play(f"harbor:{task}", [*(commands or oracle_commands(task)), "submit"])
    assert steps[-1].done and steps[-1].reward == trial_reward(task, agent, tmp_path / "trials")
    assert steps[-1].won == (agent is ORACLE)
