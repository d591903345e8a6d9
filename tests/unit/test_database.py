"""The history's database and job leases, on SQLite and PostgreSQL: what a replica may write,
what it may take over, what a lease counts and gives back, how an old history is migrated,
and that the PostgreSQL URL's password stays out of the logs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from playground.database import Database, SQLite, connect
from playground.errors import LimitReached
from playground.history import History, JobRecord
from playground.leases import Leases
from playground.limits import Allowance
from playground.people import Person
from playground.settings import Settings


def job(job_id: str, status: str = "queued") -> JobRecord:
    return JobRecord(id=job_id, mode="text-to-video", version="v2.2", endpoint="e",
                     backend="fal", key_source="server", form={"prompt": "p"}, status=status,
                     request_id=f"req-{job_id}")


def test_a_replica_writes_a_job_only_while_it_holds_its_lease(database: Database) -> None:
    history = History(database)
    now = [1000.0]
    a = Leases(history.db, seconds=10, holder="a", clock=lambda: now[0])
    b = Leases(history.db, seconds=10, holder="b", clock=lambda: now[0])
    assert Allowance(max_jobs=5, per_person=5, waiting_per_person=0, leases=a).take(
        Person(("visitor:ada",)), "j1")
    history.save(job("j1"))
    assert b.orphans() == [] and not b.claim("j1")  # a holds it
    now[0] += 11  # a stopped renewing: dead, or stalled past its lease
    assert b.orphans() == ["j1"] and b.claim("j1") and not a.claim("j1")
    assert not history.save(job("j1", "done"), holder="a")  # a's late word is not written
    stored = history.get("j1")
    assert stored is not None and stored.status == "queued"
    assert a.renew() == set() and b.renew() == {"j1"}  # a finds out at its next renewal
    assert history.save(job("j1", "done"), holder="b")
    b.release("j1")
    assert b.orphans() == [] and history.db.query("SELECT COUNT(*) FROM leases") == [(0,)]


def test_a_lease_and_the_names_it_counts_are_given_back_by_its_holder_only(
        database: Database) -> None:
    History(database)
    now = [1000.0]
    a = Leases(database, seconds=10, holder="a", clock=lambda: now[0])
    b = Leases(database, seconds=10, holder="b", clock=lambda: now[0])
    allowance = Allowance(max_jobs=3, per_person=2, waiting_per_person=1, leases=a)
    ada = Person(("visitor:ada", "address:10.0.0.1"))
    assert allowance.take(ada, "j1") and allowance.take(ada, "j2")
    assert not allowance.take(ada, "j3")  # her third waits its turn
    with pytest.raises(LimitReached, match="limit of 3 jobs"):
        allowance.take(Person(("visitor:bob",)), "j4")
    assert allowance.in_flight == 3

    def names() -> int:
        return int(database.query("SELECT COUNT(*) FROM lease_names")[0][0])

    assert names() == 6  # two names for each of her three; Bob's went with his refusal
    b.release("j1")  # not b's to give back
    assert allowance.in_flight == 3 and names() == 6
    a.release("j1")
    assert allowance.in_flight == 2 and names() == 4
    assert allowance.take(Person(("visitor:bob",)), "j4")  # the place is free again
    now[0] += 11
    assert b.claim("j2") and names() == 3  # an adopted job counts toward no person
    a.release("j2")  # a lost it: its word changes nothing
    assert allowance.in_flight == 1 and names() == 3


def test_an_older_history_gains_the_new_columns_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as old:  # as a version before owners, prices and leases
        old.execute("CREATE TABLE jobs (id, mode, version, endpoint, backend, key_source, "
                    "form, arguments, status, created, logs, timings, PRIMARY KEY (id))")
        old.execute("INSERT INTO jobs VALUES ('old', 'text-to-video', 'v2.2', 'e', 'fal', "
                    "'server', '{}', '{}', 'done', 1.0, '[]', '{}')")
    history = History(path)
    record = history.get("old")
    assert record is not None and record.status == "done" and record.owner is None
    history.save(job("new"))
    assert {r.id for r in history.recent()} == {"old", "new"}
    assert history.db.query("SELECT COUNT(*) FROM leases") == [(0,)]


def test_the_database_url_stays_out_of_the_log_line_and_the_settings_repr() -> None:
    url = "postgresql://pika:hunter2-secret@db.internal:5432/pika"
    settings = Settings.from_env({"PIKA_DATABASE_URL": url})
    assert settings.database_url == url
    assert "history in PostgreSQL at db.internal:5432/pika" in settings.describe()
    assert "hunter2" not in settings.describe() and "hunter2" not in repr(settings)


def test_a_database_url_that_is_not_postgresql_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PIKA_DATABASE_URL must start with postgresql://"):
        connect("mysql://somewhere/db", tmp_path)
    assert isinstance(connect(None, tmp_path), SQLite)
