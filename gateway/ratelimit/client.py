"""The client's address: the TCP peer, or what a trusted proxy says the client's address is.

A forwarded-address header is believed only when the peer is one of ``[rate_limit]
trusted_proxies``; anyone else could write any address into it (and so take a fresh rate-limit
bucket per request). The header is read from the right: each trusted proxy appends the address it
saw, so the right-most address that is not a trusted proxy is the client; the entries left of it
were written by the client and are ignored. Only the configured header is read (a proxy that sets
``X-Forwarded-For`` passes a client's ``Forwarded`` through untouched).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


class ClientAddresses:
    """Resolves the client address of a request from its peer and headers."""

    def __init__(self, trusted_proxies: Sequence[str], header: str = "x-forwarded-for") -> None:
        self._trusted: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted_proxies
        )
        self._header = header.lower()

    def trusted(self, address: str | None) -> bool:
        parsed = _parse(address)
        return parsed is not None and any(parsed in network for network in self._trusted)

    def resolve(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The client address (normalised); the peer unless it is a trusted proxy."""
        if not self._trusted or not self.trusted(peer):
            return peer
        raw = headers.get(self._header)
        if not raw:
            return peer
        chain = _forwarded_for(raw) if self._header == "forwarded" else raw.split(",")
        client = peer
        for entry in reversed(chain):
            address = _parse(entry)
            if address is None:  # garbage or "unknown": stop at the last address we can vouch for
                break
            client = str(address)
            if not any(address in network for network in self._trusted):
                break
        return client


def _forwarded_for(raw: str) -> list[str]:
    """The ``for=`` values of an RFC 7239 ``Forwarded`` header, in order."""
    values = []
    for element in raw.split(","):
        match = _FOR.search(element)
        values.append(match.group(1).strip('"') if match else "")
    return values


def _parse(value: str | None) -> _Address | None:
    """An address from ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80`` or ``::1``; None if not one."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
