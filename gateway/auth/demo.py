"""The demo consumer applications and the development token secret (``jamajama dev``).

Four consumers show the range of access: a governor's dashboard that sees aggregates only, a
social-affairs application and a health application that see personal data for an approved
purpose, and a developer who may explore the schema but has no approved purpose. Each purpose
opens only the scopes it approves for the OPD (docs/access.md has the table): SIBANSOS reads
NIKs in clear to pay assistance, but only pseudonyms when it verifies the welfare register.
"""

from __future__ import annotations

from datetime import date

from gateway.auth.config import ApplicationSeed, PurposeApproval, PurposeSeed

#: HS256 secret of development tokens. Never use it outside a developer's machine.
DEV_SECRET = "jamajama-development-secret-do-not-use-in-production"
DEV_ISSUER = "jamajama-dev"
DEV_AUDIENCE = "jamajama"
#: key of pseudonyms and sealed cursors in development (``[auth.identifiers] key``)
DEV_IDENTIFIER_KEY = "jamajama-development-identifier-key-not-for-production"

DEMO_APPLICATIONS: tuple[ApplicationSeed, ...] = (
    ApplicationSeed(
        id="dasbor-gubernur",
        name="Dasbor Gubernur (aggregates per region)",
        opd="Biro Pemerintahan",
        scopes=[],
        purposes=[],
    ),
    ApplicationSeed(
        id="sibansos",
        name="SIBANSOS Dinas Sosial (social assistance)",
        opd="Dinas Sosial",
        scopes=[
            "kependudukan:read",
            "kependudukan:nik",
            "sosial:read",
            "kesehatan:read",
            "pendidikan:read",
        ],
        purposes=["penyaluran_bansos", "verifikasi_dtks"],
    ),
    ApplicationSeed(
        id="sehat-lampung",
        name="Sehat Lampung Dinas Kesehatan (health services)",
        opd="Dinas Kesehatan",
        scopes=["kependudukan:read", "kesehatan:read", "kesehatan:jkn"],
        purposes=["pelayanan_kesehatan"],
    ),
    ApplicationSeed(
        id="developer",
        name="Developer sandbox (Diskominfo)",
        opd="Diskominfo",
        scopes=["kependudukan:read"],
        purposes=[],
    ),
)

_PERSONAL = ["data_pribadi"]

DEMO_PURPOSES: tuple[PurposeSeed, ...] = (
    PurposeSeed(
        id="penyaluran_bansos",
        name="Penyaluran bantuan sosial",
        description="Paying social assistance to the households entitled to it.",
        legal_basis="UU 13/2011 (Penanganan Fakir Miskin); Permensos 3/2021 (DTKS)",
        valid_from=date(2025, 1, 1),
        valid_until=date(2027, 12, 31),
        approvals={
            "Dinas Sosial": PurposeApproval(
                scopes=[
                    "kependudukan:read",
                    "kependudukan:nik",
                    "sosial:read",
                    "kesehatan:read",
                    "pendidikan:read",
                ],
                policies=_PERSONAL,
            )
        },
    ),
    PurposeSeed(
        id="verifikasi_dtks",
        name="Verifikasi DTKS",
        description="Checking the welfare register (DTKS) against civil registration.",
        legal_basis="Permensos 3/2021 (DTKS)",
        valid_from=date(2025, 1, 1),
        valid_until=date(2027, 12, 31),
        approvals={
            "Dinas Sosial": PurposeApproval(
                scopes=["kependudukan:read", "sosial:read"], policies=_PERSONAL
            )
        },
    ),
    PurposeSeed(
        id="pelayanan_kesehatan",
        name="Pelayanan kesehatan",
        description="Health services and JKN membership checks at facilities.",
        legal_basis="UU 17/2023 (Kesehatan)",
        valid_from=date(2025, 1, 1),
        valid_until=date(2027, 12, 31),
        approvals={
            "Dinas Kesehatan": PurposeApproval(
                scopes=["kependudukan:read", "kesehatan:read", "kesehatan:jkn"],
                policies=_PERSONAL,
            )
        },
    ),
)

#: the end user each demo token names (``sub``)
DEMO_USERS: dict[str, str] = {
    "dasbor-gubernur": "staf.biro@lampungprov.go.id",
    "sibansos": "operator.dinsos@lampungprov.go.id",
    "sehat-lampung": "petugas.dinkes@lampungprov.go.id",
    "developer": "dev@diskominfo.lampungprov.go.id",
}
