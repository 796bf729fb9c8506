"""The grounding gate: what counts as a URL, path or command, what is kept, what goes, what is missing."""

from skillspark.core.skillspec import split_frontmatter
from skillspark.explore.grounding import Corpus, commands_section, gate, looks_like_command, missing_commands

EVIDENCE = Corpus("""## Task Pattern
Create the file `/app/greeting.txt` containing the single word `hello`.
## Execution Chain
1. [edit] echo hello > /app/greeting.txt
2. [run] python3 -c "import sys; print(sys.version)"
3. [edit] cat > /app/make.py << 'EOF'
import pathlib
pathlib.Path('/app/greeting.txt').write_text('hello\\n')
EOF
## Raw Support Tail
see https://docs.python.org/3/library/pathlib.html for pathlib
""")
KEY = ["echo hello > /app/greeting.txt"]
HEAD = "---\nname: hello-greeting\ndescription: Write a word to a file.\n---\n"


def run(body, head=HEAD, key=KEY):
    return gate(head + body, EVIDENCE, key)


def kinds(claims):
    return sorted(c.kind for c in claims)


def test_corpus_collapses_whitespace_and_refuses_empty():
    assert "echo   hello >\n/app/greeting.txt" in EVIDENCE
    assert "echo hello >> /app/greeting.txt" not in EVIDENCE
    assert "" not in EVIDENCE and "   " not in EVIDENCE


def test_looks_like_command():
    for yes in ("python3 solve.py", "./run.sh --fast", "/usr/bin/env python3 x.py", "grep a b | wc -l",
                "$ pip install requests", "foo bar > out.txt", "foo --x | sort", "build.sh && echo ok"):
        assert looks_like_command(yes), yes
    for no in ("python", "hello", "open(path).read()", "df.sum()", "the total", "total > 0", "str | None",
               "a && b"):
        assert not looks_like_command(no), no


def test_invented_url_path_and_inline_command_drop_their_lines_grounded_ones_stay():
    body = ("# Steps\n"
            "1. Run `echo hello > /app/greeting.txt`.\n"
            "2. Read https://example.com/greeting-guide first.\n"
            "3. Keep the output under /srv/greetings/out.txt.\n"
            "4. Install with `pip install greetlib`.\n"
            "5. Check the file /app/greeting.txt exists.\n"
            "6. Background: https://docs.python.org/3/library/pathlib.html.\n")
    out = run(body)
    assert "example.com" not in out.text and "/srv/greetings" not in out.text and "greetlib" not in out.text
    assert "1. Run `echo hello > /app/greeting.txt`." in out.text and "5. Check the file /app/greeting.txt" in out.text
    assert "6. Background: https://docs.python.org/3/library/pathlib.html." in out.text
    assert kinds(out.removed) == ["command", "path", "url"]
    assert [c.text for c in out.removed if c.kind == "url"] == ["https://example.com/greeting-guide"]
    assert out.missing == [] and not out.mostly_invented()


def test_invented_link_keeps_its_text():
    docs = "https://docs.python.org/3/library/pathlib.html"
    out = run(f"See [the greeting guide](https://example.com/guide) and [pathlib]({docs}).\n")
    assert out.text.endswith(f"See the greeting guide and [pathlib]({docs}).\n")
    assert [c.text for c in out.removed] == ["https://example.com/guide"] and len(out.grounded) == 1


def test_shell_block_loses_invented_lines_only_and_goes_when_nothing_grounded_is_left():
    body = ("```bash\n# write it\necho hello > /app/greeting.txt\ncurl -O https://example.com/x.sh\nfi\n```\n"
            "Then:\n```sh\nsudo make install-greeting\n```\nDone.\n")
    out = run(body)
    assert out.text == HEAD + "```bash\n# write it\necho hello > /app/greeting.txt\nfi\n```\nThen:\nDone.\n"
    assert kinds(out.removed) == ["command", "command"] and kinds(out.grounded) == ["command"]


def test_other_blocks_are_kept_or_dropped_whole():
    grounded = ("```python\nimport pathlib\n# the file the verifier reads\n"
                "pathlib.Path('/app/greeting.txt').write_text('hello\\n')\n```\n")
    invented = "```python\nimport pathlib\ndef greet(name):\n    return f'hello {name}'\n```\n"
    out = run(grounded + "and\n" + invented)
    assert out.text == HEAD + grounded + "and\n"
    assert kinds(out.grounded) == ["code"] and kinds(out.removed) == ["code"]
    heredoc = "```bash\ncat > /app/make.py << 'EOF'\nimport os\nEOF\n```\n"  # one invented line sinks the heredoc
    assert run(heredoc).text == HEAD


def test_unchecked_code_and_prose_pass_untouched():
    body = "# Hello greeting\nWrite the word `hello` and call `open()`; use read/write access, 50/50.\n"
    out = run(body)
    assert out.text == HEAD + body and out.removed == [] and out.grounded == []


def test_invented_description_is_emptied_for_the_repair():
    head = "---\nname: hello-greeting\ndescription: See https://example.com/how for greetings.\n---\n"
    out = run("1. `echo hello > /app/greeting.txt`\n", head=head)
    data, _, _ = split_frontmatter(out.text)
    assert data["description"] == "" and "example.com" not in out.text


def test_missing_key_commands():
    assert missing_commands("echo  hello >\n/app/greeting.txt", KEY) == []
    assert missing_commands("echo hello", KEY) == KEY
    assert missing_commands("cat > /app/make.py << 'EOF' import", ["cat > /app/make.py << 'EOF' import …"]) == []
    out = run("Write the file with echo.\n")
    assert out.missing == KEY


def test_mostly_invented_compares_invented_with_grounded_items():
    out = run("- `echo hello > /app/greeting.txt`\n- https://a.example\n- /opt/x\n")
    assert len(out.removed) == 2 and len(out.grounded) == 1 and out.mostly_invented()
    out = run("- `echo hello > /app/greeting.txt`\n- /app/greeting.txt\n- /opt/x\n")
    assert not out.mostly_invented()


def test_commands_section_quotes_in_order():
    section = commands_section(["echo hello > /app/greeting.txt", "python3 check.py"])
    assert section == ("## Commands that worked\nThe successful attempt ran these commands, in this order:\n\n"
                       "```bash\necho hello > /app/greeting.txt\npython3 check.py\n```\n")


def test_bare_file_names_in_prose_are_checked_when_their_extension_is_no_word():
    out = run("Run the script with unittest.py:1045963278 and check greeting.txt; Node.js and SKILL.md are names.\n")
    assert [(c.kind, c.text) for c in out.removed] == [("path", "unittest.py")] and out.text == HEAD
    assert [(c.kind, c.text) for c in run("The make.py script writes it.\n").grounded] == [("path", "make.py")]
