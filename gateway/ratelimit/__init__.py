"""Per-application rate limits: in memory, or in Redis shared by gateway replicas.

``gateway.config`` is imported first on purpose: it imports ``RateLimitSection`` after defining
``Section``, so either import order works.
"""

import gateway.config  # noqa: F401
