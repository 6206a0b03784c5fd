"""How many audit records per second the PostgreSQL store appends (docs/deployment.md, sizing).

    .venv/bin/python -m tests.cluster.audit_rate [--records 2000] [--writers 1 4]

Appends ``--records`` personal-data records (one subject each, signed, as a gateway writes them)
into a fresh table of the local server, from one store (one replica) and from several stores at
once (replicas sharing the chain: the advisory lock serialises them), then prints records/s and
the bytes each record takes on disk (table + subject index). The table is dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import psycopg

from gateway.audit.log import AuditLog
from gateway.audit.store import PostgresAuditStore
from tests.audit.test_chain import SIGNING_KEY, SUBJECT_KEY, event

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def measure(records: int, writers: int) -> tuple[float, float]:
    table = f"jj_rate_{uuid.uuid4().hex[:10]}"
    logs = [
        AuditLog(
            PostgresAuditStore(POSTGRES_URL, table, migrate_at_start=True), SUBJECT_KEY, SIGNING_KEY
        )
        for _ in range(writers)
    ]
    try:
        await logs[0].append(event(0))  # the schema exists before the clock starts
        per_writer = records // writers

        async def write(log: AuditLog, offset: int) -> None:
            for n in range(per_writer):
                subject = log.subject_hash(f"{offset + n:016d}")
                await log.append(event(n % 60, (subject,)))

        started = time.perf_counter()
        await asyncio.gather(*(write(log, i * per_writer) for i, log in enumerate(logs)))
        rate = per_writer * writers / (time.perf_counter() - started)
        with psycopg.connect(POSTGRES_URL) as conn:
            size = conn.execute(
                "SELECT pg_total_relation_size(%s) + pg_total_relation_size(%s)",
                (table, f"{table}_subjects"),
            ).fetchone()
        per_record = (size[0] if size else 0) / (per_writer * writers + 1)
        return rate, per_record
    finally:
        await logs[0].store.drop()  # type: ignore[attr-defined]
        for log in logs:
            await log.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    for writers in args.writers:
        rate, per_record = asyncio.run(measure(args.records, writers))
        print(
            f"writers={writers} records={args.records}: {rate:,.0f} records/s, "
            f"{per_record:,.0f} bytes/record on disk"
        )


if __name__ == "__main__":
    main()
