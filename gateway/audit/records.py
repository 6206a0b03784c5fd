"""Audit records and their hash chain.

One ``AuditEvent`` per operation says who (application, OPD, end user), why (purpose), what
(operation name, document hash, field coordinates, data subjects as keyed hashes), what was
refused, and the outcome. Appending turns it into an ``AuditRecord``: sequence number, the previous
record's hash, its own hash over ``seq``, ``prev_hash`` and the canonical JSON body, and optionally
an HMAC signature of that hash with a key kept outside the store.

Editing a record changes its hash; removing or reordering records breaks the ``seq``/``prev_hash``
links; recomputing the whole chain after an edit is caught by the signatures (when a signing key is
configured). ``verify_chain`` names the first record at fault.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What the gateway knows about one operation (no personal data in clear)."""

    time: str
    request_id: str | None
    application: str | None
    opd: str | None
    user: str | None
    purpose: str | None
    operation_name: str | None
    operation_type: str
    document_hash: str
    fields: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    refused: tuple[tuple[str, str, str], ...] = ()  # (path, coordinate, reason)
    outcome: str = "ok"
    personal: bool = False
    #: keyed hashes of identifiers released inside cursors or keys the client sees
    released: tuple[str, ...] = ()
    #: keyed hashes of identifiers a refused lookup asked for (the DPO sees refused attempts)
    refused_lookups: tuple[str, ...] = ()

    def indexed(self) -> tuple[str, ...]:
        """Every subject hash the record is filed under (``audit subject``)."""
        return tuple(sorted({*self.subjects, *self.released, *self.refused_lookups}))

    def body(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the exact text that is hashed."""
        # the fields hold only strings, booleans and tuples of them: a shallow dict serialises
        # exactly as ``dataclasses.asdict`` did, at a fraction of its cost (group commit)
        data = {name: getattr(self, name) for name in _EVENT_FIELDS}
        data["fields"] = list(self.fields)
        data["subjects"] = list(self.subjects)
        data["refused"] = [{"path": p, "coordinate": c, "reason": r} for p, c, r in self.refused]
        for name in ("released", "refused_lookups"):  # absent when empty: older bodies' shape
            if data[name]:
                data[name] = list(data[name])
            else:
                del data[name]
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_body(cls, body: str) -> AuditEvent:
        data: dict[str, Any] = json.loads(body)
        data["fields"] = tuple(data.get("fields", ()))
        data["subjects"] = tuple(data.get("subjects", ()))
        data["released"] = tuple(data.get("released", ()))
        data["refused_lookups"] = tuple(data.get("refused_lookups", ()))
        data["refused"] = tuple(
            (r["path"], r["coordinate"], r["reason"]) for r in data.get("refused", ())
        )
        return cls(**data)


_EVENT_FIELDS = tuple(f.name for f in fields(AuditEvent))


@dataclass(frozen=True, slots=True)
class Disclosures:
    """Identifiers (in clear; hashed into the event) an operation let out or asked about besides
    the data it returned: released inside cursors or keys the client sees, and looked up by a
    refused lookup. Handed to ``AccessControl.release`` by whoever seals cursors and keys and
    decides lookups."""

    released: frozenset[str] = frozenset()
    refused_lookups: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.released or self.refused_lookups)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored record: the event body plus its place in the chain."""

    seq: int
    prev_hash: str
    hash: str
    body: str
    signature: str | None = None
    #: the subject hashes the store's index lists for this record (verified against the body)
    indexed_subjects: tuple[str, ...] | None = field(default=None, compare=False)

    @property
    def event(self) -> AuditEvent:
        return AuditEvent.from_body(self.body)


def record_hash(seq: int, prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{seq}\n{prev_hash}\n{body}".encode()).hexdigest()


def sign(key: bytes | None, digest: str) -> str | None:
    if key is None:
        return None
    return hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()


def chain(
    event: AuditEvent, previous: tuple[int, str] | None, signing_key: bytes | None
) -> AuditRecord:
    """The record that follows ``previous`` (seq, hash), or the first one."""
    return chain_body(event.body(), previous, signing_key)


def chain_body(
    body: str, previous: tuple[int, str] | None, signing_key: bytes | None
) -> AuditRecord:
    """``chain`` of an event's body made beforehand (outside the store's writer lock)."""
    seq, prev_hash = (previous[0] + 1, previous[1]) if previous else (1, GENESIS)
    digest = record_hash(seq, prev_hash, body)
    return AuditRecord(seq, prev_hash, digest, body, sign(signing_key, digest))


def subject_hash(key: bytes, value: str) -> str:
    """The keyed hash under which a data subject (NIK, KK number) is stored."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Problem:
    """One integrity problem, naming the record."""

    seq: int
    message: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    records: int
    head: str
    problems: tuple[Problem, ...]
    #: checkpoints compared with the chain, and the highest count a valid one vouches for
    checkpoints: int = 0
    anchored: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(records: Iterable[AuditRecord], signing_key: bytes | None) -> VerifyReport:
    """Check every link, hash and signature; the records must come in stored (``seq``) order."""
    problems: list[Problem] = []
    expected_seq, previous_hash, count = 1, GENESIS, 0
    last_seq = 0
    for record in records:
        count += 1
        if record.seq < last_seq:
            problems.append(Problem(record.seq, f"record {record.seq} is out of order"))
        elif record.seq != expected_seq:
            missing = (
                f"record {expected_seq} is missing"
                if record.seq == expected_seq + 1
                else f"records {expected_seq}..{record.seq - 1} are missing"
            )
            problems.append(Problem(expected_seq, f"{missing} (removed)"))
        if record.prev_hash != previous_hash:
            problems.append(
                Problem(
                    record.seq,
                    f"record {record.seq} does not follow the record before it "
                    "(a record was removed, inserted or reordered)",
                )
            )
        if record_hash(record.seq, record.prev_hash, record.body) != record.hash:
            problems.append(Problem(record.seq, f"record {record.seq} was altered (hash mismatch)"))
        if signing_key is not None:
            expected = sign(signing_key, record.hash) or ""
            if not hmac.compare_digest(expected, record.signature or ""):
                problems.append(
                    Problem(record.seq, f"record {record.seq} has an invalid signature")
                )
        if record.indexed_subjects is not None:
            try:
                subjects: Sequence[str] = AuditEvent.from_body(record.body).indexed()
            except (ValueError, TypeError, KeyError):
                subjects = ()
            if sorted(record.indexed_subjects) != sorted(subjects):
                problems.append(
                    Problem(record.seq, f"record {record.seq}: the data-subject index was altered")
                )
        previous_hash = record.hash
        last_seq = max(last_seq, record.seq)
        expected_seq = last_seq + 1
    return VerifyReport(count, previous_hash, tuple(problems))
