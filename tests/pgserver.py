"""A throwaway PostgreSQL cluster for the tests of the PostgreSQL stores (`zkdl.db`).

`PgServer` runs initdb and pg_ctl in a new temporary directory and listens on a free 127.0.0.1
port. PostgreSQL refuses to run as root, so under root both run as the `postgres` user
(`runuser`) in a directory that user owns. The binaries come from PATH or
/usr/lib/postgresql/*/bin; `make test` installs them (Debian's `postgresql`). Without them the
fixtures FAIL, they never skip.

Fixtures, imported by tests/chain/conftest.py and tests/service/conftest.py: `pg_server`
(session), `pg_url` (a new database per test) and `db_location` (a fresh store location per
backend: a SQLite path, then a PostgreSQL URL). Helpers for store tests on either backend:
`run_sql` (a statement on a store's tables from outside) and `run_concurrently` (clients in threads).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tests.localnode import free_port

BACKENDS = ["sqlite", "postgresql"]
# The one role that must give a password (scram-sha-256); every other local connection is trusted.
PASSWORD_USER, PASSWORD = "zkdl_password_user", "right-password"
_HBA = f"""local all all trust
host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
"""


def find_binary(name: str) -> str:
    """`name` from PATH, else from the newest /usr/lib/postgresql/<version>/bin (Debian's layout)."""
    dirs = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), reverse=True, key=lambda d: tuple(int(n) for n in re.findall(r"\d+", Path(d).parent.name))
    )
    for found in [shutil.which(name), *(str(Path(d) / name) for d in dirs)]:
        if found and os.access(found, os.X_OK):
            return found
    pytest.fail(
        f"PostgreSQL's {name} is not on PATH nor in /usr/lib/postgresql/*/bin: run `make test` "
        "(it installs Debian's postgresql), or install the PostgreSQL server yourself",
        pytrace=False,
    )


def _postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(
            "the tests run as root, and PostgreSQL then runs as the `postgres` user, which is missing: "
            "run `make test` (Debian's postgresql creates it)",
            pytrace=False,
        )


class PgServer:
    """One cluster: `url(dbname)`, `create_database()`, `sql(...)`, `close()`."""

    def __init__(self) -> None:
        initdb, self._pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        self.dir = Path(tempfile.mkdtemp(prefix="zkdl-pg-"))
        self._as_owner = [] if os.getuid() else ["runuser", "-u", "postgres", "--"]
        if self._as_owner:
            owner = _postgres_user()
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        (self.data / "pg_hba.conf").write_text(_HBA)
        self._names = itertools.count()
        self.port = self._start()
        self.sql("postgres", f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'")

    def _run(self, *cmd: str) -> None:
        done = subprocess.run([*self._as_owner, *cmd], capture_output=True, text=True, cwd=self.dir)
        if done.returncode:
            log = self.dir / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr}{done.stdout}\n{tail}")

    def _start(self) -> int:
        # fsync off: a test cluster need not survive a power loss, only a killed process.
        for attempt in itertools.count():  # a free port can be taken before the server binds it
            port = free_port()
            options = f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
            try:
                self._run(self._pg_ctl, "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60", "-o", options, "start")
                return port
            except RuntimeError:
                if attempt == 2:
                    raise

    def url(self, dbname: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        auth = f"{user}:{password}" if password is not None else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, dbname: str, statement: str) -> list[tuple]:
        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def create_database(self) -> str:
        name = f"t{next(self._names)}"
        self.sql("postgres", f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_connections(self, dbname: str) -> int:
        """Terminate every other session on `dbname` (a crash of their clients, seen from the server)."""
        rows = self.sql(
            dbname, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return len(rows)

    def close(self) -> None:
        try:
            self._run(self._pg_ctl, "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def run_sql(location: str, namespace: str, statement: str) -> None:
    """Run `statement` on a store's tables from outside the store (as an operator would): in the
    SQLite file, or in the PostgreSQL database with the store's schema (`namespace`) searched."""
    if "://" not in location:
        with closing(sqlite3.connect(location)) as db, db:
            db.execute(statement)
        return
    with psycopg.connect(location, autocommit=True, options=f"-c search_path={namespace}") as conn:
        conn.execute(statement)


def run_concurrently(workers: int, work: Callable[[int], None]) -> None:
    """`work(0)` … `work(workers - 1)` in threads released together (each opens its own store
    connection, as a process would); an error in any of them fails the test."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(w: int) -> None:
        try:
            barrier.wait()
            work(w)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a new, empty database."""
    return pg_server.create_database()


@pytest.fixture(params=BACKENDS)
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store location: a SQLite file path, or the URL of a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return request.getfixturevalue("pg_url")
