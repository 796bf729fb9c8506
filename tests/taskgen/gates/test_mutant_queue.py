"""The mutant queue shared by an audit's two oracle trials: every mutant verified once, none lost."""

import asyncio

import pytest

from skillspark.taskgen.gates.mutant_queue import MutantJob, MutantQueue, Published, discard, open_queue, queue_for
from skillspark.taskgen.gates.mutants import MutantOutcome

STATE = Published(fingerprint={"/app/out.txt": "ab" * 32}, outputs=("/app/out.txt",), offline=True)


def _jobs(n: int) -> list[MutantJob]:
    return [MutantJob(index=i, path="/app/out.txt", kind="emptied", content=b"%d" % i) for i in range(n)]


async def _worker(queue: MutantQueue, name: str, done: list[tuple[str, int]], *, wait: bool,
                  fail_on: int | None = None) -> None:
    """What a probe does with the queue (probe._verify_mutants), with a sleep for a verifier run."""
    while (job := queue.take()) is not None or (wait and await queue.more_to_take()):
        if job is None:
            continue
        try:
            await asyncio.sleep(0.01)
            if job.index == fail_on:
                raise RuntimeError("the helper's sandbox went away")
        except BaseException:
            await queue.give_back(job)
            raise
        done.append((name, job.index))
        await queue.finish(job, MutantOutcome(path=job.path, kind=job.kind, reward=float(job.index)))


def test_two_takers_verify_every_mutant_once_and_report_in_order():
    async def scenario():
        queue, done = MutantQueue(), []
        await queue.publish(STATE, _jobs(7))
        await asyncio.gather(_worker(queue, "probe", done, wait=True), _worker(queue, "helper", done, wait=False))
        return queue, done

    queue, done = asyncio.run(scenario())
    assert sorted(index for _name, index in done) == list(range(7))
    assert {name for name, _index in done} == {"probe", "helper"}
    assert [o.reward for o in queue.outcomes()] == [float(i) for i in range(7)]


def test_a_job_the_helper_cannot_finish_is_verified_by_the_probe():
    async def scenario():
        queue, done = MutantQueue(), []
        await queue.publish(STATE, _jobs(4))
        helper = _worker(queue, "helper", done, wait=False, fail_on=1)
        results = await asyncio.gather(_worker(queue, "probe", done, wait=True), helper, return_exceptions=True)
        return queue, done, results

    queue, done, results = asyncio.run(scenario())
    assert isinstance(results[1], RuntimeError)
    assert sorted(index for _name, index in done) == [0, 1, 2, 3]
    assert ("probe", 1) in done
    assert len(queue.outcomes()) == 4


def test_the_probe_waits_for_a_job_the_helper_is_still_verifying():
    async def scenario():
        queue, order = MutantQueue(), []
        await queue.publish(STATE, _jobs(1))
        job = queue.take()  # the helper holds the only job

        async def helper():
            await asyncio.sleep(0.05)
            order.append("helper finished")
            await queue.finish(job, MutantOutcome(path=job.path, kind=job.kind, reward=0.0))

        async def probe():
            await _worker(queue, "probe", [], wait=True)
            order.append("probe done")

        await asyncio.gather(probe(), helper())
        return order, queue

    order, queue = asyncio.run(scenario())
    assert order == ["helper finished", "probe done"]
    assert len(queue.outcomes()) == 1


def test_a_helper_waiting_for_mutants_is_released_when_the_probe_gives_up():
    async def scenario():
        key = open_queue()
        queue = queue_for(key)
        waiting = asyncio.create_task(queue.published())
        await asyncio.sleep(0)
        await discard(key)  # the probe's trial ended without publishing (its oracle failed)
        return await asyncio.wait_for(waiting, 5), queue_for(key)

    published, gone = asyncio.run(scenario())
    assert published is None and gone is None


@pytest.mark.parametrize("key", [None, "", "no-such-queue"])
def test_no_queue_for_an_unknown_key(key):
    assert queue_for(key) is None
