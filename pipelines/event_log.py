"""Dagster's SQLite event log, kept open between events.

A refresh writes ≈ 600 events (every dbt model and test is an asset event or a check evaluation).
Dagster's `SqliteEventLogStorage` opens a new engine for each write, commits with an fsync,
and closes it again; closing a WAL database's last connection checkpoints it. py-spy counted
7.6 s of the refresh process there during a 20 s transform+quality stage, mostly in commit and
close. This storage keeps one engine per shard (the index and the few runs being
written) and commits without fsync (`synchronous=NORMAL`: in WAL mode a commit survives the
process crashing; only a power cut may lose the last events). The tables and files are
Dagster's own, so `ruralcare ui` and the daemon read the same history.

Dagster's SQLite log tells the UI of a running run's new events by watching the run's `.db` file
change, which a connection kept open changes only at checkpoints: runs are watched by polling
instead, as Dagster does for its Postgres storage.

It overrides `_connect`, a private member of the pinned dagster (1.13); tests/integration/
test_event_log.py checks that the history it writes is what Dagster reads back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as db
from dagster import StringSource
from dagster._core.storage.event_log import SqlPollingEventWatcher
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData

# The index shard, and the runs of one refresh being written at once; older runs' engines are
# closed, so a long-lived daemon or UI does not keep a file open per run it ever touched.
OPEN_SHARDS = 4


class LocalEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log under DAGSTER_HOME/history/runs, with cached connections."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, db.Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._tables: set[str] = set()
        self._watcher: SqlPollingEventWatcher | None = None
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def config_type(cls):
        return {"dagster_home": StringSource}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(str(Path(config_value["dagster_home"]) / "history" / "runs"), inst_data=inst_data)

    def _engine(self, shard: str) -> db.Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = db.create_engine(self.conn_string_for_shard(shard),
                                      connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            db.event.listen(engine, "connect", _commit_without_fsync)
            self._engines[shard] = engine
            while len(self._engines) > OPEN_SHARDS:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # Asked before every asset check event; a table, once there, stays.
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def _close_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._close_engines()  # before the files are deleted under them
        super().wipe()

    def watch(self, run_id: str, cursor: str | None, callback) -> None:
        if self._watcher is None:
            self._watcher = SqlPollingEventWatcher(self)
        self._watcher.watch_run(run_id, cursor, callback)

    def end_watch(self, run_id: str, handler) -> None:
        if self._watcher is not None:
            self._watcher.unwatch_run(run_id, handler)

    def dispose(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self._close_engines()
        super().dispose()


def _commit_without_fsync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
