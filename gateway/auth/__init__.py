"""Who may see what: tokens, principals, field-level authorization, purpose and masking.

``gateway.config`` is imported first on purpose: it imports the section models of this package
after defining ``Section``, so either import order works.
"""

import gateway.config  # noqa: F401
