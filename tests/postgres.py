"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's `postgresql` package,
a data directory of its own in a temporary folder, TCP on a free loopback port, trust
authentication, no fsync. Stopped and removed at the end.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres`
user the Debian package creates, and is started through `runuser`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.apprunner import free_port


def binaries() -> Path | None:
    """The folder with initdb and pg_ctl, or None when PostgreSQL is not installed."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def why_not() -> str | None:
    """Why no cluster can be made here, in words; None when one can."""
    if binaries() is None:
        return ("PostgreSQL is not installed (Debian: apt-get install postgresql; "
                "`make test` does it)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run PostgreSQL as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    return None


@dataclass
class Cluster:
    root: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://pika@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database's URL: one per test keeps their rows apart."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    bindir = binaries()
    assert bindir is not None, why_not()
    root = Path(tempfile.mkdtemp(prefix="pika-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, port = root / "data", free_port()
    log = root / "server.log"
    subprocess.run(_as_owner([str(bindir / "initdb"), "-D", str(data), "-U", "pika",
                              "--auth=trust", "--encoding=UTF8", "--locale=C"]),
                   check=True, capture_output=True)
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log),
                              "-o", options, "-w", "-t", "60", "start"]),
                   check=True, capture_output=True)
    try:
        yield Cluster(root, port)
    finally:
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                  "-w", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
