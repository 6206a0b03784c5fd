"""A subgraph's embedded, read-only SQLite store, with the helpers batching needs.

Every read goes through :meth:`Store.query`, which counts statements: tests use
``store.query_count`` to prove that resolving N entities costs one query per batch. Batched reads
pass the whole key list as one JSON parameter (``json_each``), so a batch is one statement whatever
its size (no ``IN (?, ?, ...)`` limit on the number of variables).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Row = sqlite3.Row


class Store:
    """One subgraph's SQLite file, opened read-only (the generator is its only writer)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        uri = f"file:{path.resolve()}?mode=ro&immutable=1"
        self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self.query_count = 0

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.query_count += 1
        return self._conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def by_keys(
        self,
        table: str,
        column: str,
        keys: Sequence[str],
        where: str = "",
        params: Sequence[Any] = (),
    ) -> dict[str, Row]:
        """Rows of `table` whose `column` is one of `keys`, in one statement; keyed by `column`."""
        sql = f"SELECT * FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))" + (
            f" AND {where}" if where else ""
        )
        return {row[column]: row for row in self.query(sql, [json.dumps(list(keys)), *params])}

    def grouped_by_keys(
        self, table: str, column: str, keys: Sequence[str], order_by: str, where: str = ""
    ) -> dict[str, list[Row]]:
        """All rows of `table` for each key, in one statement; keyed by `column`."""
        sql = (
            f"SELECT * FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))"
            + (f" AND {where}" if where else "")
            + f" ORDER BY {order_by}"
        )
        groups: dict[str, list[Row]] = defaultdict(list)
        for row in self.query(sql, [json.dumps(list(keys))]):
            groups[row[column]].append(row)
        return groups

    def close(self) -> None:
        self._conn.close()


def within_region(column: str, kode: str) -> tuple[str, list[str]]:
    """SQL condition: `column` (a desa code) lies in region `kode`, at any level.

    A range on the code rather than ``LIKE 'kode.%'``, so SQLite can use an index on `column`:
    every code below ``18.71`` sorts between ``18.71.`` and ``18.71/`` ('/' follows '.').
    """
    return f"({column} = ? OR ({column} > ? AND {column} < ?))", [kode, kode + ".", kode + "/"]
