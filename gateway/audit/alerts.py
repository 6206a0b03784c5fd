"""DPO alerts: unusual personal-data access, read from the audit log.

Three signals, each per application over a sliding window ending now: a **volume** of
personal-data operations above a threshold (bulk extraction looks like this), access **outside
approved purposes** (a refusal because the declared purpose is not approved for the application,
or none was declared), and a **burst of refusals** (probing). They are data for the DPO page and a
Prometheus gauge (``jamajama_audit_alerts``) for the operator's alerting rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from prometheus_client import CollectorRegistry, Gauge

from gateway.audit.records import AuditRecord
from gateway.audit.report import DECISION

Kind = Literal["volume", "purpose", "refusals"]


@dataclass(frozen=True, slots=True)
class AlertRules:
    window: timedelta = timedelta(hours=1)
    #: personal-data operations per application per window
    volume: int = 500
    #: operations refused for their purpose per application per window (1: any)
    purpose: int = 1
    #: refused operations per application per window
    refusals: int = 20


@dataclass(frozen=True, slots=True)
class Alert:
    kind: Kind
    application: str
    count: int
    threshold: int
    since: datetime

    @property
    def message(self) -> str:
        what = {
            "volume": "operasi data pribadi",
            "purpose": "akses di luar tujuan yang disetujui",
            "refusals": "permintaan ditolak",
        }[self.kind]
        return f"{self.application}: {self.count} {what} sejak {self.since:%H:%M} UTC"


def _outside_purpose(reason: str) -> bool:
    return "purpose" in reason


def detect(
    records: Iterable[AuditRecord], now: datetime, rules: AlertRules | None = None
) -> list[Alert]:
    """The alerts raised by the records of the window ending at ``now`` (aware UTC)."""
    rules = rules or AlertRules()
    since = now - rules.window
    counts: dict[Kind, Counter[str]] = {k: Counter() for k in ("volume", "purpose", "refusals")}
    for record in records:
        event = record.event
        if event.operation_type == DECISION:
            continue
        try:
            when = datetime.fromisoformat(event.time)
        except ValueError:
            continue
        if not since <= when <= now:
            continue
        app = event.application or "anonim"
        if event.personal and event.outcome == "ok":
            counts["volume"][app] += 1
        if any(_outside_purpose(reason) for _, _, reason in event.refused):
            counts["purpose"][app] += 1
        if event.outcome != "ok" or event.refused:
            counts["refusals"][app] += 1
    limits: dict[Kind, int] = {
        "volume": rules.volume,
        "purpose": rules.purpose,
        "refusals": rules.refusals,
    }
    return [
        Alert(kind, app, n, limits[kind], since)
        for kind, counter in counts.items()
        for app, n in sorted(counter.items())
        if n >= limits[kind]
    ]


class AlertMetrics:
    """``jamajama_audit_alerts{kind,application}``: the count behind each raised alert (0 when
    it clears), refreshed each time the alerts are computed."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry
        self.gauge = Gauge(
            "jamajama_audit_alerts",
            "Unusual personal-data access per application in the alert window, by kind "
            "(volume, purpose, refusals); 0 when not alerting",
            ["kind", "application"],
            registry=registry,
        )
        self._raised: set[tuple[str, str]] = set()

    def publish(self, alerts: Iterable[Alert]) -> None:
        current = {(a.kind, a.application): a.count for a in alerts}
        for key in self._raised - current.keys():
            self.gauge.labels(*key).set(0)
        for key, count in current.items():
            self.gauge.labels(*key).set(count)
        self._raised = set(current)
