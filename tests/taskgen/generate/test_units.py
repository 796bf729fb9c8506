"""Idea files, blueprint parsing, the deterministic critique, rendering and the task library, piece by piece."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import pytest

from skillspark.errors import UserError
from skillspark.taskgen.blueprint import BlueprintError, TaskBlueprint, parse_blueprint
from skillspark.taskgen.critique import critique, parse_advisory
from skillspark.taskgen.idea import load_idea
from skillspark.taskgen.library import TaskLibrary, tokens
from skillspark.taskgen.render import render_task, rendered_files
from tests.taskgen.generate import blueprints as bp

EXAMPLES = Path(__file__).parents[3] / "examples"

# the original SPARK example, byte for byte in shape (spark_tasks_gen/examples/wav_amplitude_prompt.json)
SPARK_IDEA = {
    "prompt": "Parse a binary WAV audio file located at /root/audio_sample.wav. Split the audio into 1-second "
              "segments and compute the RMS amplitude of each segment.",
    "task_name_hint": "wav-amplitude-analysis",
    "available_tools": ["python3"],
    "environment_hints": ["Harbor task environment", "No internet access"],
    "constraints": ["Parse WAV binary format directly"],
    "output_dir": "spark_tasks_gen/generated_tasks",
}


# ---- ideas ---------------------------------------------------------------------------------------
def test_original_spark_idea_file_is_read_unchanged(tmp_path):
    path = tmp_path / "idea.json"
    path.write_text(json.dumps(SPARK_IDEA))
    idea = load_idea(path)
    assert idea.slug == "wav-amplitude-analysis" and idea.tools == ["python3"]
    assert idea.environment_hints == ["Harbor task environment", "No internet access"]
    assert not idea.needs_internet


def test_example_idea_files_load():
    ideas = sorted((EXAMPLES / "ideas").glob("*.json"))
    assert len(ideas) >= 2
    assert all(load_idea(p).prompt for p in ideas)


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not valid JSON (line 1, column 2"),
    ("[1, 2]", 'expected a JSON object with a "prompt" key, got list'),
    ('{"promt": "typo"}', "key 'promt': unknown key (a typo?)"),
    ('{"prompt": ""}', "key 'prompt': String should have at least 1 character"),
])
def test_bad_idea_files_are_one_line_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "idea.json"
    path.write_text(text)
    with pytest.raises(UserError, match=None) as info:
        load_idea(path)
    assert message in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_idea_file(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load_idea(tmp_path / "nope.json")


# ---- blueprints ----------------------------------------------------------------------------------
def test_blueprint_in_a_fence_or_prose_is_found_and_seed_forced():
    fenced = parse_blueprint(f"```json\n{bp.answer()}\n```", seed=5)
    prose = parse_blueprint(f"Here it is:\n{bp.answer()}\nHope it helps.")
    assert fenced.seed == 5 and prose.seed == 0 and fenced.name == "region-totals"


@pytest.mark.parametrize(("changes", "problem"), [
    ({"output_paths": ["totals.json"]}, "field output_paths: Value error, 'totals.json' must be an absolute file path"),
    ({"params": {"rows": 5}}, "params['rows'] = 5 is outside the parameter schema"),
    ({"input_paths": []}, "field input_paths: List should have at least 1 item"),
])
def test_blueprint_problems_are_listed_for_the_model(changes, problem):
    with pytest.raises(BlueprintError) as info:
        parse_blueprint(bp.answer(**changes))
    assert any(problem in p for p in info.value.problems), info.value.problems


# ---- critique ------------------------------------------------------------------------------------
def messages(**changes) -> list[str]:
    return [f"{i.severity}: {i.message}" for i in critique(TaskBlueprint.model_validate(bp.good(**changes)))]


def test_code_that_is_not_python_is_a_critique_error_not_a_parse_error():
    """A grammar-decoded answer is always a blueprint; its code fields are checked here (and fed back)."""
    parsed = parse_blueprint(bp.answer(oracle="def broken(:\n", tests="no tests"))
    found = messages(oracle="def broken(:\n", tests="no tests")
    assert parsed.oracle == "def broken(:\n"
    assert found[:2] == ["error: oracle is not valid Python (line 1: invalid syntax); write a complete Python script",
                         "error: tests is not valid Python (line 1: invalid syntax); write a complete Python script"]
    assert not any("assert nothing" in f for f in found)  # the AST checks wait for code that parses
    assert messages(data_generator="x = 1\0")[0] == ("error: data_generator is not valid Python (source code string "
                                                     "cannot contain null bytes); write a complete Python script")


def test_good_blueprint_has_no_findings():
    assert messages() == []


def test_each_failure_mode_is_named():
    assert messages(tests=bp.VACUOUS_TESTS)[:2] == [
        "error: tests: test_regions, test_totals assert nothing (vacuous); every test must assert on the output",
        "error: tests: 0 test function(s) with an assertion; write at least 2 that check different properties "
        "of the output"]
    assert "never reads an input path" in messages(oracle=bp.HARD_CODED_ORACLE)[0]
    assert messages(tests=bp.NETWORK_TESTS) == [
        "error: tests uses the network (urllib) but the task runs offline; use only the standard library and local files"]
    assert messages(oracle=bp.WRONG_PATH_ORACLE)[0].startswith(
        "error: output path /app/totals.json does not appear in the oracle")
    class_tests = "import json\n\nclass TestOut:\n    def test_a(self):\n        assert 1 == 2\n"
    assert "not test classes" in messages(tests=class_tests)[0]


def test_hard_coded_answers_and_leaks_need_distinctive_literals():
    tests = bp.TESTS + '\n\ndef test_grand_total():\n    assert sum(json.loads(OUTPUT.read_text()).values()) == 2041077\n'
    oracle = bp.ORACLE + "\nassert 2041077\n"
    found = messages(tests=tests, oracle=oracle, instruction=bp.INSTRUCTION + "\nThe grand total is 2041077.\n")
    assert "error: the oracle contains values the tests expect (2041077)" in found[0]
    assert "error: expected values (2041077) appear in what the agent sees" in found[1]
    assert "warning: tests compare against literal numbers (2041077)" in found[2]


def test_unseeded_generator_and_shared_paths():
    unseeded = bp.GENERATOR.replace("rng = random.Random(SEED)", "rng = random.Random(time.time())")
    assert [m for m in messages(data_generator=unseeded) if "SEED" in m or "time" in m] == [
        "error: data_generator never uses SEED; draw all randomness from random.Random(SEED) so each seed gives "
        "one fixed dataset",
        "error: data_generator uses time, unseeded random or OS entropy; use only random.Random(SEED) so builds "
        "are reproducible"]
    same = messages(output_paths=["/app/data/orders.csv"], oracle=bp.ORACLE + "\n# /app/data/orders.csv\n")
    assert any("is both an input and an output" in m for m in same)


def test_advisory_answers_become_warnings_and_junk_none():
    issues = parse_advisory('ok {"issues": [{"area": "oracle", "message": " off by one "}, {"message": 3}]}')
    assert [(i.severity, i.area, i.message) for i in issues] == [("warning", "oracle", "off by one")]
    assert parse_advisory("no json here") == [] and parse_advisory('{"issues": "none"}') == []


# ---- render --------------------------------------------------------------------------------------
def test_render_is_deterministic_offline_and_keeps_answers_from_the_agent(tmp_path):
    blueprint = TaskBlueprint.model_validate(bp.good(seed=9))
    first = render_task(blueprint, tmp_path / "a")
    second = render_task(blueprint, tmp_path / "b")
    assert first.files == second.files
    task = tmp_path / "a"
    config = tomllib.loads((task / "task.toml").read_text())
    assert config["environment"]["network_mode"] == "no-network" and config["metadata"]["seed"] == 9
    assert config["task"]["name"] == "skillspark-gen/region-totals"
    agent_visible = [task / "instruction.md", *sorted((task / "environment").iterdir())]
    for path in agent_visible:  # neither the tests, nor the oracle, nor the blueprint reach the agent
        assert "def test_totals" not in path.read_text() and "json.dump(dict(sorted" not in path.read_text()
    assert (task / "tests/generate_data.py").read_text() == (task / "environment/generate_data.py").read_text()
    test_sh = (task / "tests/test.sh").read_text()
    assert "pip" not in test_sh and "curl" not in test_sh and "uvx" not in test_sh
    assert (task / "tests/test.sh").stat().st_mode & 0o111 and (task / "solution/solve.sh").stat().st_mode & 0o111
    with pytest.raises(FileExistsError):
        render_task(blueprint, task)


def test_internet_only_when_the_blueprint_asks():
    blueprint = TaskBlueprint.model_validate(bp.good(environment={"allow_internet": True}))
    assert 'network_mode = "public"' in rendered_files(blueprint)["task.toml"]


# ---- library -------------------------------------------------------------------------------------
def write_task(root: Path, name: str, instruction: str) -> Path:
    task = root / name
    (task / "environment").mkdir(parents=True)
    (task / "tests").mkdir()
    (task / "instruction.md").write_text(instruction)
    (task / "task.toml").write_text("")
    (task / "environment" / "Dockerfile").write_text("FROM debian\n")
    (task / "tests" / "test.sh").write_text("#!/bin/bash\n")
    return task


def test_bm25_against_hand_computed_scores(tmp_path):
    lib = tmp_path / "lib"
    write_task(lib, "a", "csv csv sales")
    write_task(lib, "b", "wav audio")
    library = TaskLibrary(lib, tmp_path / "index.json")
    # doc a: csv csv sales from debian bin bash = 7 tokens; doc b: wav audio from debian bin bash = 6; avg 6.5
    # idf(csv) = ln(1 + (2 - 1 + 0.5) / (1 + 0.5)) = ln 2; tf 2: 2 * 2.5 / (2 + 1.5 * (0.25 + 0.75 * 7 / 6.5))
    expected = math.log(2) * 2 * 2.5 / (2 + 1.5 * (0.25 + 0.75 * 7 / 6.5))
    [hit] = library.search("csv report")
    assert hit.name == "a" and hit.score == round(expected, 4)
    assert library.search("nothing matches") == []
    assert tokens("Sales-Report_2 x") == ["sales", "report_2", "x"]


def test_index_is_kept_and_only_changed_tasks_are_reread(tmp_path):
    lib = tmp_path / "lib"
    write_task(lib, "a", "csv sales")
    task_b = write_task(lib, "b", "wav audio")
    index = tmp_path / "index.json"
    TaskLibrary(lib, index)
    kept = json.loads(index.read_text())
    (task_b / "instruction.md").write_text("csv audio")
    TaskLibrary(lib, index)
    now = json.loads(index.read_text())
    key_a = str((lib / "a").resolve())
    key_b = str(task_b.resolve())
    assert now[key_a] == kept[key_a] and now[key_b]["digest"] != kept[key_b]["digest"]
    assert now[key_b]["terms"]["csv"] == 1


def test_retrieval_over_the_example_tasks(tmp_path):
    library = TaskLibrary(EXAMPLES / "tasks", tmp_path / "index.json")
    hits = library.search("sales orders csv revenue per region json report", k=2)
    assert hits[0].name == "csv-sales-report" and len(hits) == 2
    assert hits[0].score > hits[1].score


def test_the_idea_pins_output_paths_and_network():
    from skillspark.taskgen.idea import TaskIdea

    idea = TaskIdea(prompt="sum per region", output_paths=["/app/report.json"])
    found = [i.message for i in critique(TaskBlueprint.model_validate(bp.good(environment={"allow_internet": True})),
                                         idea)]
    assert "the idea asks for output path(s) /app/report.json; use exactly those in output_paths" in found
    assert any(m.startswith("allow_internet is true but the idea does not need the network") for m in found)
    assert critique(TaskBlueprint.model_validate(bp.good()), TaskIdea(prompt="x", output_paths=["/app/totals.json"])) == []
