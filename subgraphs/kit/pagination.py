"""Cursor pagination for every list that can grow with the data (``first``/``after``).

A page is a ``XxxConnection { nodes pageInfo { hasNextPage endCursor } totalCount }``. Cursors
name the last row by its storage row id, never by its key (a key may be a NIK: personal data
should not travel in a cursor), and pages use keyset reads (``key > (the key of that row) ORDER
BY key``), so a deep page costs the same as the first. ``first`` is capped at
:data:`MAX_FIRST`. The gateway seals these cursors again for each application (issue 12).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry

from .errors import InvalidInput
from .store import Row, Store, within_region

T = TypeVar("T")
DEFAULT_FIRST = 20
MAX_FIRST = 100
#: the column under which a page's rows carry their row id
_ROWID = "_page_rowid"


@strawberry.federation.type(
    shareable=True, description="Where a page ends and whether more follow."
)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="One page of a list: its nodes, how to continue, the total size.")
class Connection(Generic[T]):
    nodes: list[T]
    page_info: PageInfo
    total_count: int


def encode_cursor(rowid: int) -> str:
    return base64.urlsafe_b64encode(f"r:{rowid}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith("r:") or not text[2:].isdigit():
        raise InvalidInput(
            "`after` must be an endCursor returned by a previous page", reason="INVALID_CURSOR"
        )
    return int(text[2:])


def check_first(first: int) -> int:
    if not 0 <= first <= MAX_FIRST:
        raise InvalidInput(
            f"`first` must be between 0 and {MAX_FIRST}, got {first}", reason="INVALID_PAGE_SIZE"
        )
    return first


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


def fetch_page(
    store: Store,
    *,
    table: str,
    key: str,
    where: str,
    params: Sequence[Any],
    first: int,
    after: str | None,
) -> Page:
    """One keyset page of `table` filtered by `where` (two statements: the page and the count)."""
    check_first(first)
    sql = f"SELECT rowid AS {_ROWID}, * FROM {table} WHERE {where}"
    page_params = list(params)
    if after is not None:
        sql += f" AND {key} > (SELECT {key} FROM {table} WHERE rowid = ?)"
        page_params.append(decode_cursor(after))
    sql += f" ORDER BY {key} LIMIT ?"
    rows = store.query(sql, [*page_params, first + 1])
    total_row = store.one(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)
    total = int(total_row[0]) if total_row else 0
    has_next = len(rows) > first
    rows = rows[:first]
    end = encode_cursor(rows[-1][_ROWID]) if rows else None
    return Page(rows, has_next, end, total)


def to_connection(page: Page, nodes: list[T]) -> Connection[T]:
    return Connection(
        nodes=nodes,
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        total_count=page.total_count,
    )


def page_in_region(
    store: Store,
    *,
    table: str,
    key: str,
    region: str,
    first: int,
    after: str | None,
    node: Callable[[Row], T],
    equal: Mapping[str, Any] | None = None,
) -> Connection[T]:
    """A page of ``table`` rows located in region ``region`` (by ``desa_kode``), optionally
    narrowed to rows whose columns equal the given values (``None`` values are ignored)."""
    where, params = within_region("desa_kode", region)
    for column, value in (equal or {}).items():
        if value is not None:
            where += f" AND {column} = ?"
            params.append(value)
    page = fetch_page(
        store, table=table, key=key, where=where, params=params, first=first, after=after
    )
    return to_connection(page, [node(row) for row in page.rows])
