"""A separate process appending to an audit store, as a gateway worker would (tests only).

    python -m tests.audit.writer sqlite|postgres TARGET COUNT APPENDERS

``APPENDERS`` coroutines append ``COUNT`` records in all (0: until killed), through the group
commit; each record is printed (``seq hash``) as soon as ``append`` returned it — the moment a
gateway would release the personal data it stands for.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys

from gateway.audit.log import AuditLog
from gateway.audit.store import AuditStore, PostgresAuditStore, SqliteAuditStore
from tests.audit.test_chain import SIGNING_KEY, SUBJECT_KEY, event

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def store(backend: str, target: str) -> AuditStore:
    if backend == "sqlite":
        return SqliteAuditStore(target)
    return PostgresAuditStore(POSTGRES_URL, target, migrate_at_start=True)


async def main(backend: str, target: str, count: int, appenders: int) -> None:
    log = AuditLog(store(backend, target), SUBJECT_KEY, SIGNING_KEY, write_timeout=30.0)
    numbers = itertools.count() if count == 0 else iter(range(count))
    pid = os.getpid()

    async def appender() -> None:
        for n in numbers:
            record = await log.append(event(n % 60, (log.subject_hash(f"{pid}-{n}"),)))
            sys.stdout.write(f"{record.seq} {record.hash}\n")
            sys.stdout.flush()

    try:
        await asyncio.gather(*(appender() for _ in range(appenders)))
    finally:
        await log.aclose()


if __name__ == "__main__":
    backend, target, count, appenders = sys.argv[1:5]
    asyncio.run(main(backend, target, int(count), int(appenders)))
