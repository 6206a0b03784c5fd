"""Errors of the auth layer (all ``GatewayError``, each with a stable code).

GatewayError
├── AuthenticationError      the bearer token is malformed, expired, or fails verification (401)
├── AuthorizationError       reject mode: the operation asks for something the caller may not see
└── RegistryError            the consumer-application registry cannot be read or written
"""

from __future__ import annotations

from gateway.errors import GatewayError

UNAUTHORIZED_FIELD_OR_TYPE = "UNAUTHORIZED_FIELD_OR_TYPE"


class AuthenticationError(GatewayError):
    """The presented credentials are unusable; the message says why, never how to forge them."""

    code = "UNAUTHENTICATED"


class AuthorizationError(GatewayError):
    """The operation is refused as a whole (reject mode)."""

    code = UNAUTHORIZED_FIELD_OR_TYPE


class RegistryError(GatewayError):
    """The application registry failed (a closed store, an unreachable database)."""

    code = "APPLICATION_REGISTRY_UNAVAILABLE"
