"""Errors of the auth layer (all ``GatewayError``, each with a stable code).

GatewayError
├── AuthenticationError      the bearer token is malformed, expired, or fails verification (401)
└── RegistryError            the consumer-application registry cannot be read or written
"""

from __future__ import annotations

from gateway.errors import GatewayError

#: a field or type the caller may not see (an error object in the response: auth/authorize.py)
UNAUTHORIZED_FIELD_OR_TYPE = "UNAUTHORIZED_FIELD_OR_TYPE"


class AuthenticationError(GatewayError):
    """The presented credentials are unusable; the message says why, never how to forge them."""

    code = "UNAUTHENTICATED"


class RegistryError(GatewayError):
    """The application registry failed (a closed store, an unreachable database)."""

    code = "APPLICATION_REGISTRY_UNAVAILABLE"
