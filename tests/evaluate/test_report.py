"""report.html: self-contained, escaped, every plot a real PNG; PDI quadrants and Spearman by hand."""

from __future__ import annotations

import base64
import re

import pytest

from skillspark.errors import UserError
from skillspark.evaluate import plots, report
from skillspark.evaluate.summary import build_summary
from tests.evaluate.test_summary import record

EVIL = "<script>alert(1)</script>"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small_eval():
    """Four tasks, k = 2, none vs generated; one task name is markup, one model name carries quotes."""
    outcomes = {"a": (0, 2), "b": (1, 2), EVIL: (0, 1), "d$x^2$": (2, 2)}
    rows = []
    for task, (before, after) in outcomes.items():
        for trial in range(2):
            rows.append(record(task, "none", trial, trial < before, model='m"1'))
            rows.append(record(task, "generated", trial, trial < after, model='m"1', skill_read=True))
    return rows


def pdi_rows():
    return [
        {
            "task": "a",
            "phi_exec": "0.5",
            "phi_plan": "0.1",
            "phi_oss": "0.2",
            "pdi": "1.5",
            "quadrant": "low plan / high exec",
        },
        {
            "task": "b",
            "phi_exec": "0.2",
            "phi_plan": "0.4",
            "phi_oss": "0.2",
            "pdi": "-0.5",
            "quadrant": "high plan / low exec",
        },
        {
            "task": EVIL,
            "phi_exec": "0.3",
            "phi_plan": "0.1",
            "phi_oss": "0.2",
            "pdi": "0.5",
            "quadrant": "low plan / high exec",
        },
        {
            "task": "d$x^2$",
            "phi_exec": "0.1",
            "phi_plan": "0.5",
            "phi_oss": "0.2",
            "pdi": "-1.5",
            "quadrant": "high plan / low exec",
        },
        {"task": "not-evaluated", "phi_exec": "0.1", "phi_plan": "0.5", "phi_oss": "0.2", "pdi": "9", "quadrant": "x"},
    ]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    rows = small_eval()
    summary = build_summary(rows, k=2, resamples=300)
    path = report.write_report(tmp_path_factory.mktemp("out"), summary, rows, pdi_rows())
    assert path.name == "report.html"
    return path.read_text(encoding="utf-8")


def test_page_is_self_contained(page):
    for forbidden in ("http://", "https://", "//cdn", "<script", "<link", "@import"):
        assert forbidden not in page.lower()


def test_markup_in_names_is_escaped(page):
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'm"1' not in page and "m&quot;1" in page


def test_every_plot_is_a_valid_png_data_uri(page):
    sources = re.findall(r'<img alt="[^"]*" src="([^"]*)">', page)
    assert len(sources) == 5  # pass rates, forest, heatmap, cost, PDI panels
    assert page.count("<img") == len(sources)
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png.startswith(PNG_MAGIC) and png.endswith(b"IEND\xaeB`\x82")
    assert "@@plot-" not in page


def test_tables_and_verdict_in_words(page):
    # none: 0, .5, 0, 1 -> 37.5%; generated: 1, 1, .5, 1 -> 87.5%; delta 50%, all 3 moved tasks improved
    assert "37.5%" in page and "87.5%" in page and "+50.0 pp" in page
    assert "3 / 0 / 1" in page
    # d = 1, .5, .5, 0: .5 ± 3.182446 * sqrt(1/6) / 2 = [-15.0, +115.0] pp, so the CI contains 0
    assert "not shown to differ" in page and "the CI contains 0" in page and "[-15.0 pp, +100.0 pp]" in page
    assert "with 4 tasks (fewer than 20) the 95% CI of Δ covered the true Δ in as few as 83%" in page
    assert "none possible (&lt; 6 tasks)" in page


def test_pdi_section_by_hand(page):
    # low plan / high exec: a (+1.0), EVIL (+0.5) -> +75.0%; high plan / low exec: b (+0.5), d (0) -> +25.0%
    assert "+75.0 pp" in page and "+25.0 pp" in page
    # PDI 1.5, -0.5, 0.5, -1.5 vs delta 1, .5, .5, 0: ranks 4,2,3,1 vs 4,2.5,2.5,1 -> rho = 0.9487
    assert "ρ = +0.949" in page


def test_pdi_analysis_values():
    rows = small_eval()
    summary = build_summary(rows, k=2, resamples=200)
    deltas = report.task_deltas(summary, report.per_task_counts(rows))
    (analysis,) = report.pdi_analysis(summary, deltas, pdi_rows())
    assert analysis["by_quadrant"] == {
        "low plan / high exec": [1.0, 0.5],
        "high plan / low exec": [0.5, 0.0],
    } or sorted(map(sorted, analysis["by_quadrant"].values())) == [[0.0, 0.5], [0.5, 1.0]]
    assert analysis["rho"] == pytest.approx(0.9486833, rel=1e-6)  # 2.25 / sqrt(2.5 * 2.25) ... Pearson on ranks
    lo, hi = analysis["ci95"]
    assert lo is None or lo <= analysis["rho"] <= hi


def test_bad_pdi_rows_are_a_user_error():
    rows = small_eval()
    summary = build_summary(rows, k=2, resamples=50)
    with pytest.raises(UserError, match="--pdi"):
        report.pdi_analysis(
            summary, report.task_deltas(summary, report.per_task_counts(rows)), [{"task": "a", "pdi": "x"}]
        )


def test_report_without_comparisons_or_cost(tmp_path):
    rows = [record("a", "curated", 0, True, cost=None), record("b", "curated", 0, False, cost=None)]
    summary = build_summary(rows, k=1, resamples=50)
    page = report.write_report(tmp_path, summary, rows).read_text(encoding="utf-8")
    assert "No comparison: the baseline arm is missing." in page
    assert page.count("<img") == 2  # pass rates and heatmap; no cost is known, no delta exists
    assert not list(tmp_path.glob(".report.html.*"))


def test_pareto_front():
    # (cost, rate): (1, .5) (2, .4) dominated, (0.5, .2), (3, .9)
    assert plots.pareto_front([(1, 0.5), (2, 0.4), (0.5, 0.2), (3, 0.9)]) == [2, 0, 3]


def test_teacher_cost_in_words():
    rows = small_eval()
    summary = build_summary(rows, k=2, resamples=50, teacher_cost_usd={"generated": 0.4})
    # baseline $0.08 for 3 solves, skill $0.08 for 7 solves in 8 runs; $0.10 per task over 4 tasks
    text = report.teacher_cost_lines(summary)
    assert "$0.4000 to make: a teacher cost per student task of $0.1000 (amortized over 4 tasks)" in text
    solves = 0.1 / (0.08 / 3 - 0.08 / 7)  # 6.5625
    runs = solves * 8 / 7  # 7.5
    assert f"pays for itself after about {runs:.1f} student runs of each task ({solves:.1f} solves; 30 runs" in text


def test_missing_skills_in_words():
    rows = small_eval() + [record("e", "none", t, t == 0, model='m"1') for t in range(2)]
    summary = build_summary(rows, k=2, resamples=300, missing_skills={"generated": ["e"]})
    text = report.missing_skill_lines(summary)
    # deltas 1, .5, .5, 0 and e counted as 0: 2 / 5 = +40.0 pp
    assert "no skill for 1 task(s) (e)" in text and "Δ over 5 tasks is +40.0 pp" in text
    assert report.missing_skill_lines(build_summary(small_eval(), k=2, resamples=50)) == ""


def test_report_command_reads_teacher_cost_and_missing_skills(tmp_path):
    """`eval report` takes both from eval.json, as `eval` wrote them, into summary.json and report.html."""
    import io
    import json

    from rich.console import Console

    from skillspark.evaluate import service
    from skillspark.evaluate.results import EvalResult, append_result, write_config

    rows = small_eval() + [record("e", "none", t, False, model='m"1') for t in range(2)]
    for row in rows:
        append_result(tmp_path, EvalResult(**row))
    write_config(
        tmp_path,
        {
            "fingerprint": {"k": 2, "seed": 3},
            "conditions": [
                {"label": "none", "kind": "none", "source": None, "teacher_cost_usd": None},
                {"label": "generated", "kind": "generated", "source": "runs", "teacher_cost_usd": 0.4},
            ],
            "missing_skills": {"generated": ["e"]},
        },
    )
    service.write_outputs(tmp_path, console=Console(file=io.StringIO()))
    (comparison,) = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["comparisons"]
    assert comparison["missing_skill_tasks"] == ["e"] and comparison["delta_all_tasks"] == pytest.approx(0.4)
    assert comparison["teacher_cost"]["teacher_cost_per_task_usd"] == pytest.approx(0.1)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "amortized over 4 tasks" in page and "no skill for 1 task(s) (e)" in page


def test_many_tasks_plot_without_labels():
    tasks = [f"task-{i}" for i in range(plots.MAX_LABELS + 10)]
    grid = [[(i % 3) / 2, None] for i in range(len(tasks))]
    assert plots.heatmap(tasks, ["none", "curated"], grid).startswith(PNG_MAGIC)
    comparison = {"delta": 0.1, "ci95": [-0.05, 0.2]}
    diffs = {t: ((i % 5) - 2) / 4 for i, t in enumerate(tasks)}
    assert plots.forest([comparison], [diffs], ["curated − none"]).startswith(PNG_MAGIC)


def test_importing_the_report_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, skillspark.evaluate.report; print('matplotlib' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


def test_an_arm_lost_to_infra_errors_still_reports(tmp_path):
    rows = [record("a", "none", 0, True), record("a", "generated", 0, False, status="infra_error")]
    summary = build_summary(rows, k=1, resamples=50)
    generated = summary["arms"][1]
    assert (generated["n_tasks"], generated["pass_rate"], generated["infra_errors"]) == (0, None, 1)
    assert summary["comparisons"][0]["delta"] is None
    page = report.write_report(tmp_path / "new", summary, rows).read_text(encoding="utf-8")
    assert "no task ran in both" in page
