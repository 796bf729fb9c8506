"""`task_sandbox` (behind `skillspark sandbox exec/shell`) grants the network the task grants its agent,
as a Harbor trial does: a task written `network_mode = "no-network"` gets no way out there either."""

import shutil

from skillspark.sandbox.session import task_sandbox

LINKS = "tail -n +3 /proc/net/dev | cut -d: -f1"


def _hello(task_dir, tmp_path, extra: str = ""):
    task = tmp_path / "hello"
    shutil.copytree(task_dir("hello"), task)
    toml = task / "task.toml"
    toml.write_text(toml.read_text().replace("[environment]\n", f"[environment]\n{extra}"))
    return task


async def test_a_no_network_task_is_offline_in_its_sandbox(task_dir, cache_dir, tmp_path):
    task = _hello(task_dir, tmp_path, 'network_mode = "no-network"\n')
    async with task_sandbox(task, trial_dir=tmp_path / "trial", cache_dir=cache_dir) as env:
        assert env.offline
        assert (await env.exec(LINKS)).stdout.split() == ["lo"]


async def test_a_public_task_keeps_its_way_out(task_dir, cache_dir, tmp_path):
    async with task_sandbox(_hello(task_dir, tmp_path), trial_dir=tmp_path / "trial", cache_dir=cache_dir) as env:
        assert not env.offline
        assert "lo" in (await env.exec(LINKS)).stdout.split() and len((await env.exec(LINKS)).stdout.split()) > 1
