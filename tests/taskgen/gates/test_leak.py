"""Leak scan: which pieces of an output count, and where they count as leaked."""

from pathlib import Path

from skillspark.taskgen.gates.leak import Source, find_leaks, leak_gate, pieces_of, visible_sources

BAD = Path(__file__).parents[1] / "bad_tasks"


def test_pieces_by_hand():
    text = '{"total": 4821, "count": 17, "first": "2026-03-14T09:10:22Z", "tag": "short"}'
    # whole text (also its one line), the 8+ character string leaf, the 4-digit number leaf
    assert pieces_of(text) == [text, "2026-03-14T09:10:22Z", "4821"]
    assert pieces_of("hello\n") == []  # 5 characters: a spec, not an answer
    # 3 and 2 significant digits; a date's parts are not numbers; 1234.5 is one number
    assert pieces_of("0.0125 00042 2026-03-14 1234.5\n") == ["0.0125 00042 2026-03-14 1234.5", "1234.5"]


def test_only_changed_lines_of_a_modified_file():
    original = "def f(items={}):\n    return items\n"
    changed = "def f(items=None):\n    return items\n"
    assert pieces_of(changed, original=original) == ["def f(items=None):"]


def test_named_inputs_make_a_piece_derivable():
    sources = [Source(label="instruction.md", text="Sum /app/numbers.txt; expect 4821."),
               Source(label="image /app/numbers.txt", text="4821\n", named=True)]
    assert find_leaks({"/app/total.txt": ["4821"]}, sources) == []
    assert find_leaks({"/app/total.txt": ["4821"]}, sources[:1]) == ["'4821' (from /app/total.txt) in instruction.md"]


def test_numbers_match_whole_tokens_only():
    sources = [Source(label="instruction.md", text="ids 148213 and 4821.5 and 4821x")]
    assert find_leaks({"/o": ["4821"]}, sources) == []


def test_visible_sources_label_and_name_context_files():
    task = BAD / "answer-in-image"
    instruction = (task / "instruction.md").read_text()
    sources = {s.label: s for s in visible_sources(task, instruction, "/app", None)}
    assert set(sources) == {"instruction.md", "environment/Dockerfile", "environment/numbers.txt"}
    assert sources["environment/numbers.txt"].named and not sources["environment/Dockerfile"].named


def test_leak_gate_result():
    sources = [Source(label="environment/Dockerfile", text="RUN echo 4821 > /opt/.expected")]
    result = leak_gate({"/app/total.txt": "4821\n"}, {}, sources, image_scanned=False)
    assert not result.ok and "'4821' (from /app/total.txt) in environment/Dockerfile" in result.detail
    clean = leak_gate({"/app/total.txt": "4821\n"}, {}, sources[:0], image_scanned=False)
    assert clean.ok and "does not expose its image" in clean.detail


def test_a_short_output_copied_whole_is_a_leak():
    sources = [Source(label="instruction.md", text="hello"), Source(label="image /opt/expected.txt", text="hello\n"),
               Source(label="image /app/input.txt", text="hello", named=True)]
    result = leak_gate({"/app/greeting.txt": "hello\n"}, {}, sources, image_scanned=True)
    assert not result.ok
    assert result.detail.startswith("the oracle's output is visible to the agent: a copy of /app/greeting.txt ('hello') "
                                    "in image /opt/expected.txt; keep")


def test_instruction_may_spell_out_words_but_not_data():
    sources = [Source(label="instruction.md", text="header `timestamp,sensor,temperature_c`; total 123456", spec=True)]
    pieces = {"/app/out.csv": ["timestamp,sensor,temperature_c", "123456"]}
    assert find_leaks(pieces, sources) == ["'123456' (from /app/out.csv) in instruction.md"]
    sources[0].spec = False  # the same text in an image file: both count
    assert len(find_leaks(pieces, sources)) == 2
