"""Fixtures shared by every area's tests. Keep this file small: area-specific fixtures live in the area's dir.

tests is a package (imports resolve from the repo root): `from tests.fakes.scripted_openai import Reply`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _pytest.config import Config

from tests.fakes.scripted_openai import ScriptedOpenAIServer


SUITE_WORKERS = 2


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The whole suite (`pytest` with no paths, as the README and CI run it) goes on two pytest-xdist workers.

    Why: one pytest process runs one test at a time, mostly one busy core (or none, while it waits on a
    CLI run, a sandbox or a model server); a second worker uses the second core and overlaps those waits.
    Why only then: a worker costs seconds to start, which would slow down a run of one file. `--dist loadfile` keeps a file's tests on one worker, so module fixtures
    (a loaded model, a started server, generated games) are made once. `-n N` (0: one process) overrides.
    """
    if (config.pluginmanager.hasplugin("xdist") and config.option.numprocesses is None
            and config.args_source == Config.ArgsSource.TESTPATHS and not hasattr(config, "workerinput")):
        config.option.numprocesses = SUITE_WORKERS
        config.option.tx = ["popen"] * SUITE_WORKERS
        if config.option.dist == "no":
            config.option.dist = "loadfile"


@pytest.fixture
def scripted_llm() -> Iterator[ScriptedOpenAIServer]:
    """A started scripted OpenAI-compatible server on 127.0.0.1 (see tests/fakes/scripted_openai.py).

    Point a client at it with `LLMClient(scripted_llm.model, api_base=scripted_llm.base_url)`.
    """
    with ScriptedOpenAIServer() as server:
        yield server
