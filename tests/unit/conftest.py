"""The history's database for unit tests, both kinds: the SQLite file a single server uses,
and PostgreSQL (a throwaway cluster shared by the session, a fresh database per test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.database import Database, PostgreSQL, SQLite
from tests.postgres import Cluster, cluster, why_not


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    reason = why_not()
    if reason:
        pytest.skip(f"needs PostgreSQL: {reason}")
    with cluster() as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    db: Database
    if request.param == "sqlite":
        db = SQLite(tmp_path / "history.sqlite3")
    else:
        db = PostgreSQL(request.getfixturevalue("pg_cluster").new_database())
    yield db
    db.close()
