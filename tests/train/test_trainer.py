"""The training loop end to end on the tiny random model and the scripted environment."""

import json

import pytest

from skillspark.errors import UserError
from skillspark.train import trainer as trainer_module
from skillspark.train.config import TrainConfig
from skillspark.train.curves import read_metrics
from skillspark.train.envs.fake import FAKE_SKILLS
from skillspark.train.trainer import NonFiniteLoss, train

TIMING = {"gen_tokens_per_s", "update_tokens_per_s", "step_time_s", "memory_mb", "teacher_forward_s"}
LOGGED = {"loss", "pg_loss", "aux_loss", "reward_mean", "success_rate", "entropy", "gate_mean", "gate_open_share", "delta_mean", *TIMING}


@pytest.fixture
def skills(tmp_path):
    folder = tmp_path / "skills" / "lamp-and-buttons"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: lamp-and-buttons\ndescription: Which button to press.\n---\n{FAKE_SKILLS['choice']}\n")
    return folder.parent


def _config(tmp_path, skills, **overrides):
    values = dict(
        algo="sdar", game="fake:choice?turns=2&options=3", model="tiny-random", steps=3, games=2, group_size=3,
        max_turns=2, max_new_tokens=6, skills=skills, save_every=2, output=tmp_path / "run", seed=7,
        teacher_check="off",  # these tests are not about the check, which plays 32 extra games
    )
    return TrainConfig(**(values | overrides))


def _without_timing(rows):
    return [{k: v for k, v in row.items() if k not in TIMING} for row in rows]


def test_a_tiny_sdar_run_writes_config_metrics_checkpoints_and_curves(tmp_path, skills):
    out = train(_config(tmp_path, skills))
    rows = read_metrics(out / "metrics.jsonl")
    assert [row["step"] for row in rows] == [0, 1, 2]
    assert LOGGED <= set(rows[0])
    assert all(isinstance(row["loss"], float) for row in rows)
    assert 0.0 <= rows[0]["gate_mean"] <= 1.0 and 0.0 <= rows[0]["success_rate"] <= 1.0
    assert json.loads((out / "config.json").read_text())["algo"] == "sdar"
    assert (out / "checkpoints" / "latest").read_text().strip() == "step-000003"
    assert (out / "checkpoints" / "step-000003" / "model" / "config.json").is_file()
    assert (out / "learning_curves.png").stat().st_size > 1000


def test_a_run_killed_after_its_checkpoint_resumes_to_identical_metrics(tmp_path, skills, monkeypatch):
    uninterrupted = read_metrics(train(_config(tmp_path / "a", skills, steps=4)) / "metrics.jsonl")

    real_update = trainer_module.update_step
    calls = {"n": 0}

    def dies_at_step_three(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # as a kill would, after step 2's metrics line (checkpoint at step 2)
        return real_update(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "update_step", dies_at_step_three)
    with pytest.raises(KeyboardInterrupt):
        train(_config(tmp_path / "b", skills, steps=4))
    assert [row["step"] for row in read_metrics(tmp_path / "b" / "run" / "metrics.jsonl")] == [0, 1, 2]
    monkeypatch.setattr(trainer_module, "update_step", real_update)
    resumed = read_metrics(train(_config(tmp_path / "b", skills, steps=4), resume=True) / "metrics.jsonl")
    assert [row["step"] for row in resumed] == [0, 1, 2, 3]
    assert _without_timing(resumed) == _without_timing(uninterrupted)


def test_a_nan_loss_stops_cleanly_and_keeps_the_last_good_checkpoint(tmp_path, skills, monkeypatch):
    real_update = trainer_module.update_step
    calls = {"n": 0}

    def nan_at_step_three(*args, **kwargs):
        calls["n"] += 1
        stats = real_update(*args, **kwargs)
        return stats | {"loss": float("nan")} if calls["n"] == 3 else stats

    monkeypatch.setattr(trainer_module, "update_step", nan_at_step_three)
    with pytest.raises(NonFiniteLoss, match="step 2: the loss is nan.*step-000002"):
        train(_config(tmp_path, skills, steps=4))
    assert (tmp_path / "run" / "checkpoints" / "step-000002" / "trainer_state.pt").is_file()
    assert NonFiniteLoss.exit_code == 2


def test_sdar_without_skills_and_a_second_run_into_the_same_folder_are_user_errors(tmp_path, skills):
    with pytest.raises(UserError, match="needs --skills"):
        train(_config(tmp_path, None))
    train(_config(tmp_path, None, algo="grpo", steps=1))
    with pytest.raises(UserError, match="already holds a run"):
        train(_config(tmp_path, None, algo="grpo", steps=1))


@pytest.mark.parametrize("algo", ["grpo", "opsd", "grpo_opsd", "sdar", "skillsd", "rlsd", "skill_grpo"])
def test_each_algorithm_combines_its_terms_as_defined(tmp_path, skills, algo):
    row = read_metrics(train(_config(tmp_path, skills, algo=algo, steps=1, lora=True, kl_coef=0.01)) / "metrics.jsonl")[0]
    kl_term = 0.01 * row["kl"]
    entropy_term = 0.001 * row["entropy"]
    if algo in ("grpo", "skill_grpo", "rlsd"):
        assert "gate_mean" not in row and "aux_loss" not in row
        assert row["loss"] == pytest.approx(row["pg_loss"] - entropy_term + kl_term, abs=1e-5)
        assert ("delta_mean" in row) == (algo == "rlsd")  # only rlsd of these consults a teacher
        if algo == "rlsd":
            assert row["rlsd_lambda"] == pytest.approx(0.5)  # step 0 of the warm-down
        return
    if algo == "skillsd":
        assert row["rho_mean"] == pytest.approx(1.0)  # on-policy: rho = exp(S - sg(S))
        assert row["loss"] == pytest.approx(row["pg_loss"] + 0.001 * row["aux_loss"] - entropy_term + kl_term, abs=1e-5)
        return
    distill = 0.01 * row["aux_loss"]
    pg = 0.0 if algo == "opsd" else row["pg_loss"]
    assert row["loss"] == pytest.approx(pg + distill - entropy_term + kl_term, abs=1e-5)
    if algo == "grpo_opsd":
        assert row["gate_mean"] == pytest.approx(0.5)  # beta = 0: the gate is one half everywhere
    assert row["kl"] >= 0.0


def test_skill_grpo_puts_the_skill_in_the_policys_own_prompt_and_has_no_teacher(skills):
    from skillspark.train.config import RolloutConfig
    from skillspark.train.model import load_policy, tiny_random_model_dir
    from skillspark.train.rollout import collect

    model, tokenizer = load_policy(tiny_random_model_dir())
    text = FAKE_SKILLS["choice"]
    for in_prompt in (True, False):
        cfg = RolloutConfig(group_size=2, max_turns=1, max_new_tokens=3, skill_in_policy_prompt=in_prompt)
        samples = collect(model, tokenizer, "fake:choice?turns=1", [1], cfg, lambda _e, _t: text).samples
        first_rule_line = text.splitlines()[1]
        assert (first_rule_line in tokenizer.decode(samples[0].prompt_ids)) == in_prompt
        assert (samples[0].teacher_prompt_ids is None) == in_prompt


def test_ucb_retrieval_statistics_land_in_the_metrics_and_survive_a_resume(tmp_path, skills):
    second = skills / "corridor"
    second.mkdir()
    (second / "SKILL.md").write_text(f"---\nname: corridor\ndescription: Walk into the breeze.\n---\n{FAKE_SKILLS['corridor']}\n")
    config = _config(tmp_path, skills, retrieval="ucb", steps=2, save_every=1)
    rows = read_metrics(train(config) / "metrics.jsonl")
    pulls = {k: v for k, v in rows[-1].items() if k.startswith("pulls/")}
    assert set(pulls) == {"pulls/lamp-and-buttons", "pulls/corridor"}
    assert sum(pulls.values()) == 2 * 2 * 3  # 2 steps x 2 games x 3 episodes, one task skill each
    assert rows[-1]["ucb_c"] == pytest.approx(2**0.5)
    resumed = read_metrics(train(config.model_copy(update={"steps": 3}), resume=True) / "metrics.jsonl")
    assert sum(v for k, v in resumed[-1].items() if k.startswith("pulls/")) == 3 * 2 * 3


def test_skills_from_rollouts_grow_a_bank_the_teacher_then_uses(tmp_path, skills, monkeypatch):
    from skillspark.train import privileged

    prompts = []

    def scripted(prompt: str) -> str:
        prompts.append(prompt)
        return f"Press the lamp's button {len(prompts)}\n1. read the lamp colour {len(prompts)}\n2. press its symbol"

    scripted.close = lambda: None
    monkeypatch.setattr(privileged, "llm_summarizer", lambda model: scripted)
    game = "fake:choice?turns=1&options=2"
    config = _config(tmp_path, None, game=game, skills_from_rollouts=True, steps=2, games=2, group_size=4)
    row = read_metrics(train(config) / "metrics.jsonl")[-1]
    bank = tmp_path / "run" / "skillbank"
    assert prompts  # the first batch's recurring failures were summarized
    assert row["skillbank/skills"] == len(list(bank.glob("*/SKILL.md"))) >= 1
    assert (bank / "bank.jsonl").is_file()
    assert all("Error" not in p.read_text() for p in bank.glob("*/SKILL.md"))
