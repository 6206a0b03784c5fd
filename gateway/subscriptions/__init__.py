"""GraphQL subscriptions across subgraphs (docs/subscriptions.md).

``protocol.py`` the graphql-transport-ws message names; ``upstream.py`` the subgraph side (aiohttp
WebSocket client); ``manager.py`` one subscription's life (limits, events through the engine,
reload and shutdown); the client transports (SSE, WebSocket) are in gateway/http/.
"""
