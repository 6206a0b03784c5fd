"""Structured JSON logs: one object a line, with the request id of the request being served.

Only what is needed to find a request: time, level, logger, message, request id, and for errors
the exception type and traceback. Never query variables, tokens or response data (personal data
stays out of logs); the gateway's own messages are written with that in mind.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

from gateway.observability.context import request_id


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


def configure_logging(log_format: str = "json", level: str = "info") -> None:
    """Send the gateway's logs (``jamajama.*``) to stderr in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.addFilter(_RequestIdFilter())
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    logger = logging.getLogger("jamajama")
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False
