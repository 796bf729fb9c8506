"""Turning what a small model writes into one of the game's admissible commands.

A 135M model rarely writes the command verbatim: it adds "Action:", quotes, a full stop, a sentence around
it, or answers with the number of the option. Every such form maps to the command; anything else is
invalid (None), and the trainer charges `INVALID_ACTION_PENALTY` for that turn.
"""

from __future__ import annotations

import re

# verl-agent's default format penalty (the reference code subtracts 0.1 per invalid turn).
INVALID_ACTION_PENALTY = 0.1

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
# Words a model puts before its answer ("Action:", "I choose option 2"); a line of only these says nothing.
_LABELS = {
    *("action", "command", "answer", "choice", "option", "number"),
    *("my", "final", "next", "is", "i", "choose", "pick", "select"),
}
_NUMBER_THEN_TEXT = re.compile(r"^(\d+) (.+)$")


def _normalize(text: str) -> str:
    """Lower case words only: quotes, backticks, markdown, brackets and punctuation all fall away."""
    return " ".join(_WORD.findall(text.lower().replace("\u2019", "'")))


def _first_line(text: str) -> str:
    """The first line that says something beyond a bare label ("Action:" alone on its line), normalized."""
    for line in text.splitlines():
        words = _normalize(line).split()
        if words and not set(words) <= _LABELS:
            return " ".join(words)
    return ""


def _without_labels(line: str) -> str:
    words = line.split()
    while words[0] in _LABELS:
        words.pop(0)
    return " ".join(words)


def parse_action(text: str, admissible: list[str]) -> str | None:
    """The admissible command `text` means, or None.

    In order: the command itself (after any "Action:"); "2" / "(2)" / "option 2" → the 2nd command as
    `format_admissible` numbers them; "2. go north" → the command after the number; a sentence containing
    commands → the longest one (the earliest on a tie); a fragment of exactly one command ("north" →
    "go north"). Only the first line counts.
    """
    line = _first_line(text)
    if not line or not admissible:
        return None
    commands = {_normalize(command): command for command in reversed(admissible)}
    answer = _without_labels(line)
    if answer in commands:
        return commands[answer]
    if answer.isdigit():
        index = int(answer)
        return admissible[index - 1] if 1 <= index <= len(admissible) else None
    if (listed := _NUMBER_THEN_TEXT.match(answer)) and listed.group(2) in commands:
        return commands[listed.group(2)]
    padded = f" {line} "
    contained = [(len(norm), -padded.index(f" {norm} "), norm) for norm in commands if norm and f" {norm} " in padded]
    if contained:
        return commands[max(contained)[2]]
    containing = [norm for norm in commands if f" {answer} " in f" {norm} "]
    return commands[containing[0]] if len(containing) == 1 else None


def format_admissible(admissible: list[str]) -> str:
    """The numbered list shown in the prompt; `parse_action` reads the numbers back 1-based."""
    return "\n".join(f"{index}. {command}" for index, command in enumerate(admissible, 1))
