"""The change signal (jobdash.http.change_signal): one read per watched key per tick,
however many requests wait, and no change missed between "answered" and "waiting"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from jobdash.http.change_signal import DATA, SLOW_EVERY_TICKS, WORKERS, ChangeSignal, log_key
from jobdash.store.interface import StoreUnavailable
from jobdash.store.sqlite.store import SqliteStore


class CountingStore:
    """A real SQLite store that counts the marks read through it."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.version_reads = 0
        self.log_reads = 0

    def version_now(self) -> int:
        self.version_reads += 1
        return self.store.version_now()

    def version(self) -> int:
        self.version_reads += 1
        return self.store.version()

    def log_mark(self, job: dict[str, Any]) -> Any:
        self.log_reads += 1
        return self.store.log_mark(job)

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self.store.get(job_id)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    real = SqliteStore(tmp_path)
    yield CountingStore(real)
    real.close()


def run(main: Any) -> None:
    """Run ``main()`` on an event loop of its own thread (the test process may already
    have a loop running in this one: Playwright's)."""
    with anyio.from_thread.start_blocking_portal() as portal:
        portal.call(main)


def _signal(store: Any, workers: list[Any] | None = None) -> ChangeSignal:
    return ChangeSignal(store, lambda: list(workers or []))  # type: ignore[arg-type]


def test_one_read_per_key_and_tick_however_many_wait(store: CountingStore) -> None:
    async def main() -> None:
        signal = _signal(store)
        for _ in range(100):
            await signal.subscribe((DATA,))
        reads = store.version_reads
        await signal.check()
        await signal.check()
        assert store.version_reads == reads + 2
        assert signal.watched == 1

    run(main)


def test_holding_counts_the_requests_subscribed(store: CountingStore) -> None:
    async def main() -> None:
        signal = _signal(store)
        job_keys = (DATA, log_key("a0000000-0000-4000-8000-000000000000"))
        for keys in ((DATA,), (DATA,), job_keys):
            await signal.subscribe(keys)
        assert (signal.holding, signal.watched) == (3, 2)
        signal.unsubscribe(job_keys)
        signal.unsubscribe((DATA,))
        assert (signal.holding, signal.watched) == (1, 1)

    run(main)


def test_a_write_moves_the_sequence_and_wakes_the_waiters(store: CountingStore) -> None:
    async def main() -> None:
        signal = _signal(store)
        await signal.subscribe((DATA,))
        seen = signal.seqs((DATA,))
        await signal.check()
        assert signal.seqs((DATA,)) == seen  # nothing written: no news
        woken: list[bool] = []

        async def waiter() -> None:
            woken.append(await signal.wait((DATA,), seen, anyio.current_time() + 10))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(waiter)
            await anyio.sleep(0.01)
            store.store.create("/media/a", "scan")
            await signal.check()
        assert woken == [True]

    run(main)


def test_a_change_before_the_wait_began_is_not_missed(store: CountingStore) -> None:
    async def main() -> None:
        signal = _signal(store)
        await signal.subscribe((DATA,))
        seen = signal.seqs((DATA,))  # noted before the answer was computed
        store.store.create("/media/a", "scan")
        await signal.check()  # the tick ran before this waiter started waiting
        with anyio.fail_after(1):
            assert await signal.wait((DATA,), seen, anyio.current_time() + 10) is True

    run(main)


def test_the_wait_runs_out_and_release_ends_every_wait(store: CountingStore) -> None:
    async def main() -> None:
        signal = _signal(store)
        await signal.subscribe((DATA,))
        seen = signal.seqs((DATA,))
        assert await signal.wait((DATA,), seen, anyio.current_time() + 0.05) is False
        results: list[bool] = []

        async def waiter() -> None:
            results.append(await signal.wait((DATA,), seen, anyio.current_time() + 30))

        with anyio.fail_after(2):
            async with anyio.create_task_group() as tasks:
                for _ in range(3):
                    tasks.start_soon(waiter)
                await anyio.sleep(0.01)
                signal.release()
        assert results == [False, False, False]
        assert signal.released

    run(main)


def test_a_log_key_follows_its_file_and_is_forgotten_when_nobody_waits(store: CountingStore) -> None:
    async def main() -> None:
        job = store.store.create("/media/a", "scan")
        signal = _signal(store)
        key = log_key(job["id"])
        await signal.subscribe((key,))
        await signal.subscribe((key,))
        seen = signal.seqs((key,))
        await signal.check()
        assert signal.seqs((key,)) == seen  # no log yet, still none
        with store.store.open_log(job) as log:
            log.write("a line")
        await signal.check()
        assert signal.seqs((key,)) != seen
        signal.unsubscribe((key,))
        assert signal.watched == 1
        signal.unsubscribe((key,))
        assert signal.watched == 0
        reads = store.log_reads
        await signal.check()
        assert store.log_reads == reads

    run(main)


def test_the_workers_answer_is_recomputed_once_a_second(store: CountingStore) -> None:
    async def main() -> None:
        workers: list[Any] = []
        calls = 0

        def mark() -> list[Any]:
            nonlocal calls
            calls += 1
            return list(workers)

        signal = ChangeSignal(store, mark, tick_s=0.1)  # type: ignore[arg-type]
        await signal.subscribe((WORKERS,))
        seen, first = signal.seqs((WORKERS,)), calls
        workers.append({"id": "w1"})
        for _ in range(9):
            await signal.check()
        assert calls == first and signal.seqs((WORKERS,)) == seen  # not yet: once per 10 ticks
        await signal.check()
        assert calls == first + 1 and signal.seqs((WORKERS,)) != seen

    run(main)


def test_a_store_that_fails_a_full_read_wakes_the_waiters_once(store: CountingStore) -> None:
    async def main() -> None:
        signal = _signal(store)
        await signal.subscribe((DATA,))
        seen = signal.seqs((DATA,))
        real = store.version

        def gone() -> int:
            raise StoreUnavailable("job store unavailable: the database file has no jobdash tables")

        # The kept connection goes on reading its cached page (a file emptied in place);
        # the once-a-second full read finds the trouble.
        store.version = gone  # type: ignore[method-assign]
        for _ in range(SLOW_EVERY_TICKS - 1):
            await signal.check()
        assert signal.seqs((DATA,)) == seen
        await signal.check()
        woken = signal.seqs((DATA,))
        assert woken != seen  # the waiters run again (and answer the 503)
        for _ in range(3 * SLOW_EVERY_TICKS):
            await signal.check()
        assert signal.seqs((DATA,)) == woken  # once, not every second
        store.version = real  # type: ignore[method-assign]
        for _ in range(SLOW_EVERY_TICKS):
            await signal.check()
        assert signal.seqs((DATA,)) == woken  # back, unchanged: no news

    run(main)


def test_a_failing_check_does_not_stop_the_watcher(store: CountingStore, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        signal = ChangeSignal(store, lambda: [], tick_s=0.01)  # type: ignore[arg-type]
        await signal.subscribe((DATA,))
        seen = signal.seqs((DATA,))
        real = store.version_now
        calls = 0

        def flaky() -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("an error nobody expected")
            return real()

        store.version_now = flaky  # type: ignore[method-assign]
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(signal.run)
            while calls == 0:  # until the first check has failed
                await anyio.sleep(0.01)
            store.store.create("/media/a", "scan")
            with anyio.fail_after(2):
                assert await signal.wait((DATA,), seen, anyio.current_time() + 5) is True
            signal.release()
        assert calls > 1

    run(main)
    assert "checking for changes failed" in caplog.text
