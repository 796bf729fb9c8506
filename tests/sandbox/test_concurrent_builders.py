"""Finding 7 of issue 19: concurrent builders of a shared cache, threads of one process and separate processes.

Each case starts from a cold cache. Before the fix, threads of one process shared one staging folder
(`.<layer>.<pid>`), so one thread deleted or renamed the half-made copy another was filling
(`File exists`, vanished files, a failed `ensurepip`).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from skillspark.files import build_dir_atomically, exclusive, exclusive_async
from skillspark.sandbox.hostfs import base_layer, build_once

PARTS = 20


def _slow_builder(log: Path):
    """A builder that takes a while and leaves a recognisable, complete tree; logs one line per build."""

    def build(folder: Path) -> None:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}:{threading.get_ident()}\n")
        for index in range(PARTS):
            (folder / "sub").mkdir(exist_ok=True)
            (folder / "sub" / f"part{index}").write_text(str(index))
            time.sleep(0.005)

    return build


def _complete(folder: Path) -> bool:
    return sorted(p.name for p in (folder / "sub").iterdir()) == sorted(f"part{i}" for i in range(PARTS))


def test_threads_of_one_process_build_once_and_all_see_the_whole_result(tmp_path):
    target, log = tmp_path / "cache" / "entry", tmp_path / "builds.log"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: build_dir_atomically(target, _slow_builder(log), durable=False), range(8)))
    assert results == [target] * 8
    assert _complete(target)
    assert len(log.read_text().splitlines()) == 1  # the others used the winner's result
    assert [p.name for p in target.parent.iterdir()] == ["entry"]  # no temp folder or lock file left


_CHILD = """
import sys, time, os, threading
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests.sandbox.test_concurrent_builders import _slow_builder
from skillspark.files import build_dir_atomically
while time.time() < {start}:
    time.sleep(0.001)
build_dir_atomically(Path({target!r}), _slow_builder(Path({log!r})), durable=False)
"""


def test_separate_processes_build_once(tmp_path):
    target, log = tmp_path / "cache" / "entry", tmp_path / "builds.log"
    code = _CHILD.format(repo=str(Path(__file__).parents[2]), start=time.time() + 1.5, target=str(target), log=str(log))
    children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    assert [child.wait(timeout=60) for child in children] == [0, 0, 0]
    assert _complete(target)
    assert len(log.read_text().splitlines()) == 1


def test_exclusive_excludes_threads_and_coroutines(tmp_path):
    """The lock is held by one holder at a time, whether the others are threads or coroutines."""
    lock, inside, overlaps = tmp_path / "x.lock", [0], []

    def hold():
        with exclusive(lock):
            inside[0] += 1
            overlaps.append(inside[0])
            time.sleep(0.02)
            inside[0] -= 1

    async def hold_async():
        async with exclusive_async(lock):
            inside[0] += 1
            overlaps.append(inside[0])
            await asyncio.sleep(0.02)
            inside[0] -= 1

    async def both():
        threads = [threading.Thread(target=hold) for _ in range(4)]
        for thread in threads:
            thread.start()
        await asyncio.gather(*(hold_async() for _ in range(4)))
        for thread in threads:
            thread.join()

    asyncio.run(both())
    assert overlaps == [1] * 8


def test_cancelled_waiter_does_not_keep_the_lock(tmp_path):
    lock = tmp_path / "x.lock"

    async def scenario():
        async with exclusive_async(lock):
            waiter = asyncio.ensure_future(_take(lock))
            await asyncio.sleep(0.05)
            waiter.cancel()
        await asyncio.sleep(0.1)
        await asyncio.wait_for(_take(lock), timeout=5)  # would hang if the cancelled waiter kept it

    asyncio.run(scenario())


async def _take(lock: Path) -> None:
    async with exclusive_async(lock):
        pass


def test_a_failed_build_leaves_nothing_and_the_next_builder_builds(tmp_path):
    target = tmp_path / "entry"

    def broken(folder: Path) -> None:
        (folder / "half").write_text("x")
        raise RuntimeError("builder failed")

    with pytest.raises(RuntimeError):
        build_dir_atomically(target, broken, durable=False)
    assert list(tmp_path.iterdir()) == []  # no temp folder, and the lock file goes with its holder
    build_dir_atomically(target, lambda folder: (folder / "ok").write_text("y"))
    assert (target / "ok").read_text() == "y"


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


_LAYER_CHILD = """
import sys
from pathlib import Path
from skillspark.sandbox.hostfs import base_layer
base_layer(Path({cache!r}))
"""


def test_real_base_layer_cold_cache_threads_and_processes(tmp_path):
    """The real base layer, built by 4 threads and 2 processes at once into one cold cache."""
    reference = _tree(base_layer(tmp_path / "reference"))
    cache = tmp_path / "shared"
    children = [subprocess.Popen([sys.executable, "-c", _LAYER_CHILD.format(cache=str(cache))]) for _ in range(2)]
    with ThreadPoolExecutor(4) as pool:
        layers = list(pool.map(lambda _: base_layer(cache), range(4)))
    assert [child.wait(timeout=60) for child in children] == [0, 0]
    assert len(set(layers)) == 1
    assert _tree(layers[0]) == reference
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == [layers[0].name]


def test_build_once_returns_an_existing_layer_without_locking(tmp_path):
    (tmp_path / "layer").mkdir()
    assert build_once(tmp_path / "layer", lambda staging: pytest.fail("rebuilt")) == tmp_path / "layer"


@pytest.mark.slow
def test_real_interpreter_and_image_layers_cold_cache_in_parallel(tmp_path, task_dir):
    """Two trials' builds of the same task at once (one process, two threads) and a second process:
    the interpreter layer (a copy of a host CPython + ensurepip) and the image layer are built once."""
    from skillspark.sandbox.build import ensure_layer
    from skillspark.sandbox.interpreters import host_interpreter

    if host_interpreter("3.12") is None:
        pytest.skip("this host has no CPython 3.12 besides its system Python")  # the layer is then not made
    task = task_dir("hello")
    child = subprocess.Popen([sys.executable, "-c", _BUILD_CHILD.format(task=str(task), cache=str(tmp_path))])

    async def two():
        return await asyncio.gather(*(asyncio.to_thread(asyncio.run, _ensure(ensure_layer, task, tmp_path)) for _ in range(2)))

    layers = asyncio.run(two())
    assert child.wait(timeout=600) == 0
    assert len({layer.path for layer in layers}) == 1
    assert sum(layer.built_now for layer in layers) <= 1
    interpreters = [p for p in tmp_path.iterdir() if p.name.startswith("python3.12")]
    assert len(interpreters) == 1 and (interpreters[0] / "usr/local/bin/python3.12").is_file()
    assert (layers[0].path / "_root/app/built.txt").read_text() == "built\n"


async def _ensure(ensure_layer, task: Path, cache: Path):
    return await ensure_layer(task / "environment", cache, dockerfile_text=(task / "environment/Dockerfile").read_text())


_BUILD_CHILD = """
import asyncio
from pathlib import Path
from skillspark.sandbox.build import ensure_layer
task = Path({task!r})
asyncio.run(ensure_layer(task / "environment", Path({cache!r}), dockerfile_text=(task / "environment/Dockerfile").read_text()))
"""
