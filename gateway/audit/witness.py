"""Where checkpoints go besides the store: an append-only file and an external witness (URL).

The file is opened ``O_APPEND`` and fsynced per checkpoint; put it on another volume than the
database (a Kubernetes volume, a mounted share) so that whoever can rewrite the database cannot
also rewrite it. The witness receives each checkpoint as a JSON ``POST``; it is best effort (a
witness down never blocks audit appends): failures are logged.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import httpx

from gateway.audit.checkpoints import Checkpoint

logger = logging.getLogger("jamajama.audit")


class CheckpointFile:
    """One checkpoint per line (JSON), appended, never rewritten."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (checkpoint.to_json() + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[Checkpoint]:
        """Every checkpoint in the file; a line that is not one is skipped with a warning."""
        if not self.path.exists():
            return []
        found: list[Checkpoint] = []
        for number, line in enumerate(self.path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                found.append(Checkpoint.from_mapping(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                logger.warning("%s line %d is not a checkpoint; skipped", self.path, number)
        return found


class UrlWitness:
    """POSTs each checkpoint to an external witness (e.g. another agency's service)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self._timeout = timeout

    async def send(self, checkpoint: Checkpoint) -> bool:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(
                    self.url,
                    content=checkpoint.to_json(),
                    headers={"content-type": "application/json"},
                )
            response.raise_for_status()
        except httpx.HTTPError as error:
            logger.warning("the audit witness %s did not take checkpoint %d: %s",
                           self.url, checkpoint.count, error)  # fmt: skip
            return False
        return True
