"""The static gates: schema (tests that assert) and lint (paths the tests check are named)."""

from pathlib import Path

from skillspark.harbor.tasks import inspect_task
from skillspark.taskgen.gates.lint import checked_paths, lint_gate, named_in
from skillspark.taskgen.gates.schema import count_tests, schema_gate

EXAMPLES = Path(__file__).parents[3] / "examples" / "tasks"
BAD = Path(__file__).parents[1] / "bad_tasks"


def write_tests(tmp_path: Path, source: str) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_outputs.py").write_text(source)
    return tmp_path


def test_assertions_of_every_kind_count(tmp_path):
    task = write_tests(tmp_path, '''
import subprocess, pytest

def _check(x):
    assert x

def _indirect(x):
    _check(x)

def test_assert(): assert 1
def test_raise(): raise AssertionError("no")
def test_helper(): _indirect(1)
def test_unittest_style(): self_like.assertEqual(1, 1)
def test_pytest_raises():
    with pytest.raises(ValueError):
        int("x")
def test_subprocess(): subprocess.run(["true"], check=True)
def test_nothing(): print("hi")

class TestClass:
    def _verify(self):
        assert True
    def test_method(self): self._verify()
    def test_module_helper(self): _check(2)
    def test_empty(self): pass

class Helper:
    def test_not_collected(self): assert True
''')
    count = count_tests(task)
    assert sorted(n.split("::")[1] for n in count.asserting) == sorted([
        "test_assert", "test_raise", "test_helper", "test_unittest_style", "test_pytest_raises", "test_subprocess",
        "TestClass.test_method", "TestClass.test_module_helper"])
    assert [n.split("::")[1] for n in count.vacuous] == ["test_nothing", "TestClass.test_empty"]


def test_syntax_error_is_a_problem(tmp_path):
    count = count_tests(write_tests(tmp_path, "def test_x(:\n"))
    assert count.problems and "tests/test_outputs.py line 1 does not parse" in count.problems[0]


def test_schema_gate_on_tasks():
    good = schema_gate(EXAMPLES / "hello-greeting", inspect_task(EXAMPLES / "hello-greeting"))
    assert good.ok and good.detail == "2 test function(s), 2 with an assertion"
    bad = schema_gate(BAD / "one-asserting-test", inspect_task(BAD / "one-asserting-test"))
    assert not bad.ok and "1 with an assertion" in bad.detail and "test_total_readable" in bad.detail


def test_schema_gate_reports_static_problems(tmp_path):
    inspection = inspect_task(tmp_path)
    result = schema_gate(tmp_path, inspection)
    assert not result.ok and "task.toml is missing" in result.detail


def test_checked_paths_skip_system_and_verifier_dirs(tmp_path):
    task = write_tests(tmp_path, 'A = "/app/out.json"\nB = "/tmp/x"\nC = "/logs/verifier/r.txt"\nD = "/etc/passwd"\n'
                                 'E = "not/absolute"\nF = "/root/report.csv"\n')
    (task / "tests" / "test.sh").write_text("cat /app/in.txt /tests/data # /app/comment.txt\necho 1 > /logs/verifier/reward.txt\n")
    assert checked_paths(task) == ["/app/in.txt", "/app/out.json", "/root/report.csv"]


def test_named_in_forms():
    text = "Write `/app/out/summary.json`; then put report.csv into /data/reports. Use ./notes.md too."
    assert named_in("/app/out/summary.json", text, "/")
    assert named_in("/app/out", text, "/")  # a folder above a named file
    assert named_in("/data/reports/report.csv", text, "/")  # file name + named folder
    assert named_in("/app/notes.md", text, "/app")  # relative to WORKDIR
    assert not named_in("/app/out/summary", text, "/")  # a prefix of a longer name is not it
    assert not named_in("/srv/report.csv", text, "/")  # right name, folder never named
    assert not named_in("/app/other.md", text, "/app")  # folder named, file never


def test_lint_gate_on_tasks():
    hello = inspect_task(EXAMPLES / "hello-greeting").info
    result = lint_gate(hello, hello.path, "/app")
    assert result.ok and "advice:" in result.detail  # Harbor's style advice does not fail the gate
    wrong = inspect_task(BAD / "wrong-output-path").info
    result = lint_gate(wrong, wrong.path, "/app")
    assert not result.ok and "the tests check /app/total.txt but instruction.md never names it" in result.detail
