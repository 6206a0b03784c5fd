"""The ``graphql-transport-ws`` protocol (https://github.com/enisdenjo/graphql-ws, PROTOCOL.md):
message types and close codes, shared by the gateway's server (gateway/http/websocket.py) and its
subgraph client (``upstream.py``)."""

from __future__ import annotations

from typing import Final

SUBPROTOCOL: Final = "graphql-transport-ws"

CONNECTION_INIT: Final = "connection_init"
CONNECTION_ACK: Final = "connection_ack"
PING: Final = "ping"
PONG: Final = "pong"
SUBSCRIBE: Final = "subscribe"
NEXT: Final = "next"
ERROR: Final = "error"
COMPLETE: Final = "complete"

# close codes of the protocol
INTERNAL_ERROR: Final = 4500
BAD_REQUEST: Final = 4400
UNAUTHORIZED: Final = 4401
FORBIDDEN: Final = 4403
INIT_TIMEOUT: Final = 4408
SUBSCRIBER_EXISTS: Final = 4409
TOO_MANY_INITIALISATION_REQUESTS: Final = 4429
#: a normal close (the gateway shuts down, or the client is done)
NORMAL: Final = 1000
GOING_AWAY: Final = 1001
