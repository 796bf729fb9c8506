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


# Issue 19, finding 8: what an attacker-minded author slipped past the gate.
WORDS_TASK = "Count the words of `/app/words.txt` and write the most frequent one to `/app/answer.txt`."


def _layer(tmp_path, files: dict[str, str]):
    layer = tmp_path / "layer"
    for image_path, text in files.items():
        (layer / image_path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (layer / image_path.lstrip("/")).write_text(text)
    (tmp_path / "task" / "environment").mkdir(parents=True)
    return tmp_path / "task", layer


def test_a_copy_beside_a_named_input_is_not_an_input(tmp_path):
    task, layer = _layer(tmp_path, {"/app/words.txt": "the cat the dog the end\n", "/app/.cache/last_run.txt": "the\n",
                                    "/app/.cache/report.txt": "count 3 for the word the, then cat\n"})
    sources = {s.label: s for s in visible_sources(task, WORDS_TASK, "/app", layer)}
    assert sources["image /app/words.txt"].named
    assert not sources["image /app/.cache/last_run.txt"].named  # `/app/words.txt` does not name `/app` as a folder
    result = leak_gate({"/app/answer.txt": "the\n"}, {}, list(sources.values()), image_scanned=True)
    assert not result.ok and "a copy of /app/answer.txt ('the') in image /app/.cache/last_run.txt" in result.detail
    long = leak_gate({"/app/report.txt": "count 3 for the word the, then cat\n"}, {}, list(sources.values()), image_scanned=True)
    assert not long.ok and "image /app/.cache/report.txt" in long.detail


def test_a_folder_named_as_a_folder_is_an_input_but_not_its_hidden_files(tmp_path):
    instruction = "Run it on `/app/corpus` and save the output to `/app/top.txt`."
    task, layer = _layer(tmp_path, {"/app/corpus/a.txt": "x", "/app/corpus/.seen/b.txt": "x", "/app/other.txt": "x"})
    named = {s.label: s.named for s in visible_sources(task, instruction, "/app", layer)}
    assert named == {"instruction.md": False, "image /app/corpus/a.txt": True, "image /app/corpus/.seen/b.txt": False,
                     "image /app/other.txt": False}


def test_a_short_answer_stated_in_the_instruction_is_a_leak():
    inputs = Source(label="image /app/numbers.txt", text="40\n2\n", named=True)
    stated = Source(label="instruction.md", text="Sum `/app/numbers.txt` into `/app/total.txt` (it is 42).", spec=True)
    result = leak_gate({"/app/total.txt": "42\n"}, {}, [stated, inputs], image_scanned=True)
    assert not result.ok and "the answer of /app/total.txt ('42') stated in instruction.md" in result.detail
    fine = Source(label="instruction.md", text="Sum `/app/numbers.txt` (one per line) into `/app/total.txt`.", spec=True)
    assert leak_gate({"/app/total.txt": "42\n"}, {}, [fine, inputs], image_scanned=True).ok
    inside = Source(label="instruction.md", text="Sum `/app/numbers.txt` into `/app/total.txt`; ids like 142 or 42.5 are data.", spec=True)
    assert leak_gate({"/app/total.txt": "42\n"}, {}, [inside, inputs], image_scanned=True).ok  # not a token of its own


def test_a_words_only_answer_stated_in_the_instruction_is_a_leak():
    inputs = Source(label="image /app/words.txt", text="the cat the dog\n", named=True)
    hinted = Source(label="instruction.md", text=WORDS_TASK + " Hint: the answer is `the`.", spec=True)
    result = leak_gate({"/app/answer.txt": "the\n"}, {}, [hinted, inputs], image_scanned=True)
    assert not result.ok and "stated in instruction.md" in result.detail


def test_a_specification_or_a_choice_of_formats_is_not_a_stated_answer():
    spec = Source(label="instruction.md", text="Create `/app/greeting.txt` containing the single word `hello`.", spec=True)
    assert leak_gate({"/app/greeting.txt": "hello\n"}, {}, [spec], image_scanned=True).ok  # no input to derive it from
    inputs = Source(label="image /app/data.bin", text="abc", named=True)
    for choice in ("Check /app/data.bin, then write the word `pass` into a file in `/app/`.",
                   "Create /app/verdict.txt containing `pass` once /app/data.bin is checked.",
                   "Write `pass` or `fail` to /app/verdict.txt after checking /app/data.bin.",
                   "Check /app/data.bin; write pass/fail to /app/verdict.txt.",
                   "Check /app/data.bin and write one of `fail`, `pass` to /app/verdict.txt."):
        instruction = Source(label="instruction.md", text=choice, spec=True)
        assert leak_gate({"/app/verdict.txt": "pass\n"}, {}, [instruction, inputs], image_scanned=True).ok, choice
