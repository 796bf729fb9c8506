"""TextWorld games generated offline, cached, and played to a win through the env protocol.

Two real generations for the whole module (≈ 4 s each on a quiet machine); everything else reuses them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import textworld.challenges

from skillspark.errors import UserError
from skillspark.train.envs import tw
from skillspark.train.envs.base import INVALID_FEEDBACK
from skillspark.train.envs.registry import make_env, parse_env_spec

SIMPLE = "textworld:tw-simple?rewards=dense&goal=detailed"
COINS = "textworld:coin_collector?level=3"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("textworld")
    for spec in (SIMPLE, COINS):
        make_env(spec, 7, cache_dir=folder).close()
    return folder


@pytest.mark.parametrize("spec", [SIMPLE, COINS])
def test_walkthrough_wins_and_dense_rewards_sum_to_max_score(cache: Path, spec: str) -> None:
    env = make_env(spec, 7, cache_dir=cache)
    observation = env.reset()
    assert observation.objective and observation.admissible
    assert "$$$" not in observation.text and observation.text.startswith("-=")
    results = [env.step(command) for command in env.walkthrough()]
    env.close()
    assert results[-1].done and results[-1].won and results[-1].admissible == []
    assert not any(result.done for result in results[:-1])
    assert env.max_score > 0
    assert sum(result.reward for result in results) == env.max_score


def test_coin_collector_level_sets_the_walk_length(cache: Path) -> None:
    env = make_env(COINS, 7, cache_dir=cache)
    assert env.walkthrough().count("take coin") == 1
    assert len(env.walkthrough()) == 3  # level 3: two moves then "take coin"
    assert env.max_score == 1
    env.close()


def test_second_make_env_hits_the_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_generation(*args: object) -> None:
        raise AssertionError("generated again")

    monkeypatch.setattr(tw, "generate", no_generation)
    env = make_env(SIMPLE, 7, cache_dir=cache)
    assert env.game_id == "textworld:tw-simple?goal=detailed&rewards=dense&test=false#7"
    env.close()
    entry = cache / "tw-simple" / "goal=detailed,rewards=dense,test=false" / "7"
    assert sorted(path.name for path in entry.iterdir()) == ["game.json", "game.z8"]
    assert not [path for path in entry.parent.iterdir() if path.name.startswith(".")]  # no temp left


def test_invalid_action_sends_nothing_to_the_game(cache: Path) -> None:
    env = make_env(SIMPLE, 7, cache_dir=cache)
    observation = env.reset()
    result = env.step("xyzzy plugh")
    assert result.invalid and result.observation == INVALID_FEEDBACK and result.admissible == observation.admissible
    walk = env.walkthrough()
    first = env.step(walk[0])
    assert not first.invalid and first.reward >= 0
    assert env.step(f"Action: {first.admissible.index(walk[1]) + 1}.").reward >= 0  # a numbered answer plays
    results = [env.step(command) for command in walk[2:]]
    assert results[-1].won
    env.close()


def test_reset_restarts_the_game(cache: Path) -> None:
    env = make_env(COINS, 7, cache_dir=cache)
    first = env.reset()
    env.step(env.walkthrough()[0])
    assert env.reset() == first
    env.close()


def test_failed_generation_is_one_user_error_and_leaves_no_cache_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desc, _, arguments = textworld.challenges.CHALLENGES["tw-treasure_hunter"]

    def failing_make(settings: dict, options: object) -> None:
        raise ValueError("No quest can be generated\nwith these options")

    monkeypatch.setitem(textworld.challenges.CHALLENGES, "tw-treasure_hunter", (desc, failing_make, arguments))
    expected = r"could not generate textworld:treasure_hunter\?level=2 game 5: ValueError: No quest"
    with pytest.raises(UserError, match=expected) as caught:
        make_env("textworld:treasure_hunter?level=2", 5, cache_dir=tmp_path)
    assert "\n" not in str(caught.value)
    assert not list((tmp_path / "treasure_hunter" / "level=2").iterdir())


def test_a_concurrent_winner_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process renames its game into place first: ours is dropped, theirs is used, no temp remains."""
    spec = parse_env_spec("textworld:coin_collector?level=1")
    entry = tmp_path / "coin_collector" / "level=1" / "4"

    def racing_generate(spec: object, seed: int, path: Path) -> None:
        path.parent.mkdir(parents=True)
        path.write_text("ours")
        entry.mkdir(parents=True)
        (entry / "game.z8").write_text("theirs")

    monkeypatch.setattr(tw, "generate", racing_generate)
    assert tw.game_file(spec, 4, tmp_path).read_text() == "theirs"
    assert [path.name for path in entry.parent.iterdir()] == ["4"]


def test_default_cache_dir_follows_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLSPARK_CACHE_DIR", str(tmp_path))
    assert tw.default_cache_dir() == tmp_path / "textworld"


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec",
    [
        "textworld:treasure_hunter?level=12",
        "textworld:cooking?recipe=2&take=1&go=6&open=true&cut=true&cook=true",
        "textworld:tw-simple?rewards=sparse&goal=none",
    ],
)
def test_other_game_types_win_by_walkthrough(tmp_path: Path, spec: str) -> None:
    env = make_env(spec, 3, cache_dir=tmp_path)
    assert (env.reset().objective == tw.NO_GOAL) == ("goal=none" in spec)
    results = [env.step(command) for command in env.walkthrough()]
    env.close()
    assert results[-1].won and not any(result.invalid for result in results)
    assert sum(result.reward for result in results) == env.max_score


@pytest.mark.slow
def test_two_processes_generating_one_game_agree(tmp_path: Path) -> None:
    """Both build it at once; one rename wins, the other process uses the winner; nothing half-written remains."""
    script = (
        "import sys; from pathlib import Path; from skillspark.train.envs.registry import make_env; "
        "env = make_env('textworld:coin_collector?level=4', 9, cache_dir=Path(sys.argv[1])); "
        "env.reset(); print(sum(env.step(c).reward for c in env.walkthrough()))"
    )
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE) for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0].decode().strip() for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs == ["1.0", "1.0"]
    folder = tmp_path / "coin_collector" / "level=4"
    assert [path.name for path in folder.iterdir()] == ["9"]
    assert sorted(path.name for path in (folder / "9").iterdir()) == ["game.json", "game.z8"]
