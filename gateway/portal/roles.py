"""Who may see which page: the portal's roles, the development role picker, roles from claims.

Roles: ``opd_admin`` (the admin of one OPD, named by ``opd``), ``app_owner`` (the owner of one
consumer application, named by ``application``), ``dpo`` (the data protection officer),
``operator`` (Diskominfo's operator). In production they come from the identity provider's
ID token: the claim ``roles`` (a list, or a space-separated string) with the values above, and
the claims ``opd`` / ``application`` for the first two (see ``docs/portal.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.portal.opds import OpdProfiles

OPD_ADMIN = "opd_admin"
APP_OWNER = "app_owner"
DPO = "dpo"
OPERATOR = "operator"
ROLES = (OPD_ADMIN, APP_OWNER, DPO, OPERATOR)
LABELS = {
    OPD_ADMIN: "Admin OPD",
    APP_OWNER: "Pemilik aplikasi",
    DPO: "Pejabat Pelindungan Data (DPO)",
    OPERATOR: "Operator Diskominfo",
}


@dataclass(frozen=True, slots=True)
class Persona:
    """One identity of the development role picker."""

    key: str
    name: str
    subject: str
    roles: tuple[str, ...]
    opd: str = ""
    application: str = ""


def dev_personas(opds: OpdProfiles) -> list[Persona]:
    """The development sign-in choices: each OPD's admin, an application owner, DPO, operator."""
    admins = [
        Persona(
            f"admin-{key}", f"Admin {o.name}", f"admin.{key}@lampungprov.go.id", (OPD_ADMIN,), key
        )
        for key, o in opds.all().items()
    ]
    return [
        *admins,
        Persona(
            "pemilik-sibansos",
            "Pemilik aplikasi SIBANSOS",
            "operator.dinsos@lampungprov.go.id",
            (APP_OWNER,),
            application="sibansos",
        ),
        Persona("dpo", "Pejabat Pelindungan Data", "dpo@lampungprov.go.id", (DPO,)),
        Persona(
            "operator", "Operator Diskominfo", "operator@diskominfo.lampungprov.go.id", (OPERATOR,)
        ),
    ]


def roles_from_claims(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The known roles the ID token's ``roles`` claim names (unknown values are ignored)."""
    raw = claims.get("roles", [])
    values = raw.split() if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    return tuple(r for r in ROLES if r in values)
