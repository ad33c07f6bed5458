"""Several processes writing one store at once (SQLite and PostgreSQL), and PostgreSQL going down
in the middle of a batch."""

from __future__ import annotations

import multiprocessing
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "store"))
from store_contract import for_this_sqlalchemy, make_spec

from airflow_provider_scheduler.store import ConflictError, StoreUnavailableError, open_store, redact_uri

FORK = multiprocessing.get_context("fork")
ROUNDS = 5
WRITERS = 20

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'specs.db'}"
    postgres = request.getfixturevalue("postgres")
    return for_this_sqlalchemy(postgres.new_database(f"conc_{uuid.uuid4().hex[:12]}"))


def _racer(uri: str, who: int, barrier: Any, results: Any) -> None:
    store = open_store(uri)
    for round_ in range(ROUNDS):
        barrier.wait(timeout=60)
        stored = store.get("race.same")
        assert stored is not None
        barrier.wait(timeout=60)  # both processes now hold the same revision
        try:
            revision = store.put(
                make_spec("same", namespace="race", schedule=f"{who * 10 + round_} 6 * * *"),
                author=f"racer-{who}",
                expected_revision=stored.revision,
            )
            results.put((round_, who, "won", revision))
        except ConflictError as err:
            results.put((round_, who, "conflict", str(err)))
    store.close()


def _writer(uri: str, index: int, done: Any) -> None:
    store = open_store(uri)
    revision = 0
    for round_ in range(ROUNDS):
        revision = store.put(
            make_spec(f"w{index}", namespace="load", schedule=f"{round_} 6 * * *"),
            author=f"writer-{index}",
            expected_revision=revision,
        )
    store.close()
    done.put((index, revision))


class TestConcurrentWriters:
    def test_two_processes_from_the_same_revision_exactly_one_wins(self, store_uri: str) -> None:
        seed = open_store(store_uri)
        seed.put(make_spec("same", namespace="race"), author="seed")
        seed.close()
        barrier = FORK.Barrier(2)
        results = FORK.Queue()
        procs = [FORK.Process(target=_racer, args=(store_uri, who, barrier, results)) for who in (1, 2)]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
        for proc in procs:
            proc.join(timeout=60)
            assert proc.exitcode == 0
        for round_ in range(ROUNDS):
            this_round = sorted((o for o in outcomes if o[0] == round_), key=lambda o: o[2])
            assert [o[2] for o in this_round] == ["conflict", "won"]
            winner_revision = this_round[1][3]
            assert winner_revision == round_ + 2
            assert this_round[0][3] == (
                f"spec race.same is at revision {round_ + 2}, "
                f"your change was based on revision {round_ + 1}; reload it and apply your change again"
            )
        store = open_store(store_uri)
        history = store.history("race.same")
        assert [r.revision for r in history] == list(range(1, ROUNDS + 2))
        assert store.get("race.same").revision == ROUNDS + 1  # type: ignore[union-attr]
        store.close()

    def test_twenty_writers_lose_nothing_and_a_reader_misses_nothing(self, store_uri: str) -> None:
        reader = open_store(store_uri)
        token = reader.changes(None).token  # creates the schema before the writers start
        done = FORK.Queue()
        procs = [FORK.Process(target=_writer, args=(store_uri, i, done)) for i in range(WRITERS)]
        for proc in procs:
            proc.start()
        seen: dict[str, int] = {}
        finished: list[tuple[int, int]] = []
        while len(finished) < WRITERS:
            specs, token = reader.changes(token)
            for stored in specs:
                assert stored.revision >= seen.get(stored.id, 0)  # never goes backwards
                seen[stored.id] = stored.revision
            while not done.empty():
                finished.append(done.get())
            time.sleep(0.02)
        for proc in procs:
            proc.join(timeout=60)
            assert proc.exitcode == 0
        specs, token = reader.changes(token)
        for stored in specs:
            seen[stored.id] = stored.revision
        assert sorted(finished) == [(i, ROUNDS) for i in range(WRITERS)]
        # the incremental reader ends with exactly the final state: no change was skipped
        assert seen == {f"load.w{i}": ROUNDS for i in range(WRITERS)}
        for i in range(WRITERS):
            history = reader.history(f"load.w{i}")
            assert [(r.revision, r.author) for r in history] == [
                (n, f"writer-{i}") for n in range(1, ROUNDS + 1)
            ]
        reader.close()


class TestPostgresGoesDown:
    @pytest.fixture
    def server(self) -> Any:
        # A private server: stopping the shared session one would disturb other tests.
        from local_airflow import PostgresServer, find_postgres_bin

        if find_postgres_bin() is None:
            pytest.skip("PostgreSQL server binaries not installed")
        server = PostgresServer()
        server.init()
        server.start()
        yield server
        server.destroy()

    def test_stopped_in_the_middle_of_a_batch_stores_nothing(self, server: Any) -> None:
        uri = for_this_sqlalchemy(server.new_database("fault")).replace(
            "postgres@", "postgres:s3cret@"
        )  # trust auth ignores it
        store = open_store(uri)
        store.put(make_spec("before"), author="x")
        token = store.changes(None).token

        def stop_after_insert(_conn: Any, point: str) -> None:
            if point == "inserted":
                # "fast": the server terminates every session (ours is mid-transaction) and shuts
                # down. ("immediate" would also lose committed data: the test server runs fsync=off.)
                server.stop("fast")

        store._between_statements = stop_after_insert  # type: ignore[attr-defined]
        batch = [make_spec(f"batch-{i}") for i in range(300)] + [make_spec("before", schedule="@daily")]
        with pytest.raises(StoreUnavailableError) as info:
            store.put_many(batch, author="ci")
        message = str(info.value)
        assert message.startswith(f"the store at {redact_uri(uri)} is unreachable: ")
        assert "postgres:***@127.0.0.1" in message
        assert "s3cret" not in message
        store._between_statements = None  # type: ignore[attr-defined]

        with pytest.raises(StoreUnavailableError, match="is unreachable"):
            store.list()  # still down

        server.start()
        after = store.changes(token)  # the same store object reconnects
        assert after.specs == []
        assert [(s.id, s.revision) for s in store.list()] == [("analytics.before", 1)]
        assert len(store.history("analytics.before")) == 1
        assert store.put_many(batch[:2], author="ci") == [1, 1]  # and works again
        store.close()
