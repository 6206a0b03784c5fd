"""Signed checkpoints of the chain head: what lets someone who does not trust the operator detect
that the newest records were deleted, or that the chain was rewritten.

A hash chain proves the order of what is in the store, not that nothing was cut from its end:
whoever deletes the last records leaves a shorter chain that still verifies. A checkpoint says
"at this time the chain had ``count`` records and record ``count`` hashed to ``head``"; it is
written to places the store's writer does not control (an append-only file on another volume,
an external witness), so ``verify`` finds the records after it missing, or record ``count``
different.

Why Ed25519 and not an HMAC: a checkpoint is for a third party (the DPO, an auditor, the witness),
who must be able to check it without being able to forge one; an HMAC key that verifies also
signs. The Ed25519 key is derived from ``audit.signing_key`` (one secret to manage, none stored
beside the log); ``jamajama audit public-key`` prints the public half to hand out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway.audit.records import AuditRecord, Problem

_DOMAIN = b"jamajama-audit-checkpoint-v1"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head of one chain at one time, signed (``signature`` None: no signing key, dev)."""

    chain: str
    count: int
    head: str
    time: str
    public_key: str | None = None
    signature: str | None = None

    def message(self) -> bytes:
        """The exact bytes signed."""
        return b"\n".join(
            (_DOMAIN, self.chain.encode(), str(self.count).encode(), self.head.encode(),
             self.time.encode())
        )  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Checkpoint:
        return cls(
            chain=str(data["chain"]),
            count=int(data["count"]),
            head=str(data["head"]),
            time=str(data["time"]),
            public_key=data.get("public_key"),
            signature=data.get("signature"),
        )


class CheckpointSigner:
    """Signs checkpoints with the Ed25519 key derived from the audit signing key."""

    def __init__(self, signing_key: bytes) -> None:
        seed = hashlib.sha256(_DOMAIN + b"\n" + signing_key).digest()
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        raw = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = raw.hex()

    def sign(self, chain: str, count: int, head: str, time: str | None = None) -> Checkpoint:
        when = time or datetime.now(UTC).isoformat(timespec="milliseconds")
        unsigned = Checkpoint(chain, count, head, when, self.public_key)
        signature = self._private.sign(unsigned.message()).hex()
        return Checkpoint(chain, count, head, when, self.public_key, signature)


def unsigned(chain: str, count: int, head: str) -> Checkpoint:
    """A checkpoint without a signing key (development): it anchors the head against careless
    deletion, not against someone able to write the checkpoint too."""
    return Checkpoint(chain, count, head, datetime.now(UTC).isoformat(timespec="milliseconds"))


def signature_valid(checkpoint: Checkpoint, public_key: str) -> bool:
    if not checkpoint.signature:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(checkpoint.signature), checkpoint.message())
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class CheckpointReport:
    """What the checkpoints say about the chain."""

    checkpoints: int
    #: the highest count a valid checkpoint vouches for (0: none)
    anchored: int
    problems: tuple[Problem, ...]


def check_checkpoints(
    records: Sequence[AuditRecord],
    found: Iterable[tuple[str, Checkpoint]],
    public_key: str | None,
) -> CheckpointReport:
    """Compare every checkpoint (with where it was found) with the stored chain.

    With ``public_key``, a checkpoint must carry a valid signature by it (a forged or unsigned
    one is a problem and vouches for nothing); without, signatures are not checked.
    """
    hashes = {r.seq: r.hash for r in records}
    last = max(hashes, default=0)
    sources: dict[Checkpoint, list[str]] = {}
    for source, checkpoint in found:
        sources.setdefault(checkpoint, []).append(source)
    problems: list[Problem] = []
    anchored = 0
    for checkpoint, where in sorted(sources.items(), key=lambda item: item[0].count):
        label = f"the checkpoint of {checkpoint.time} ({', '.join(sorted(set(where)))})"
        if public_key is not None and not signature_valid(checkpoint, public_key):
            problems.append(
                Problem(checkpoint.count, f"{label} has no valid signature (forged or altered)")
            )
            continue
        anchored = max(anchored, checkpoint.count)
        if checkpoint.count > last:
            missing = (
                f"record {checkpoint.count} is"
                if checkpoint.count == last + 1
                else f"records {last + 1}..{checkpoint.count} are"
            )
            problems.append(
                Problem(
                    last + 1,
                    f"{missing} missing: {label} counted {checkpoint.count} records "
                    "(the newest records were deleted)",
                )
            )
        elif checkpoint.count in hashes and hashes[checkpoint.count] != checkpoint.head:
            problems.append(
                Problem(
                    checkpoint.count,
                    f"record {checkpoint.count} differs from {label}: the chain was rewritten "
                    f"at or before record {checkpoint.count}",
                )
            )
    return CheckpointReport(len(sources), anchored, tuple(problems))
