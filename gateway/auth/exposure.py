"""Development authentication listens on loopback only, unless the operator says otherwise.

``jamajama gateway --dev-auth`` and ``jamajama dev`` accept tokens anyone can mint with the
published development secret: on a reachable address that is an open door to personal data.
Both refuse a non-loopback ``--host`` unless given ``--dangerously-expose-dev-auth``.
"""

from __future__ import annotations

import argparse
import ipaddress

#: the flag that lets development tokens be accepted on a non-loopback address
EXPOSE_FLAG = "--dangerously-expose-dev-auth"


def add_exposure_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        EXPOSE_FLAG,
        action="store_true",
        help="DANGEROUS: serve development authentication on a non-loopback --host; anyone who "
        "reaches it can mint tokens with the published development secret and read personal data",
    )


def exposure_refused(host: str, dev_auth: bool, forced: bool) -> str | None:
    """Why development authentication must not listen on ``host`` (None: it may)."""
    if not dev_auth or forced or loopback(host):
        return None
    return (
        f"development authentication (tokens anyone can mint with the published development "
        f"secret) listens on loopback only, not on {host}; use 127.0.0.1, or add {EXPOSE_FLAG} "
        "for a closed demo network"
    )


def loopback(host: str) -> bool:
    """127.0.0.0/8, ``::1`` or ``localhost``."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
