"""`generate` in a process of its own, for the kill -9 test: scripted gates, the model at argv[1].

usage: generate_child.py BASE_URL OUTPUT [--resume]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repo root, for `tests.*`

from skillspark.taskgen.generate_run import GenerateSettings, generate  # noqa: E402
from tests.taskgen.generate.conftest import IDEA, ScriptedGates  # noqa: E402


async def main() -> int:
    base_url, output = sys.argv[1], Path(sys.argv[2])
    settings = GenerateSettings(model="openai/scripted", api_base=base_url, n=2, llm_retries=0, llm_timeout_s=600)
    outcome = await generate(IDEA, Path("idea.json"), settings, output, references=[],
                             resume="--resume" in sys.argv, gate_runner=ScriptedGates())
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
