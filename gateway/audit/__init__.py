"""The tamper-evident audit log: one hash-chained record per operation (UU 27/2022 accountability).

``gateway.config`` is imported first on purpose: it imports ``AuditSection`` after defining
``Section``, so either import order works.
"""

import gateway.config  # noqa: F401
