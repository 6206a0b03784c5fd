"""The demo consumer applications and the development token secret (``jamajama dev``).

Four consumers show the range of access: a governor's dashboard that sees aggregates only, a
social-affairs application and a health application that see personal data for an approved
purpose, and a developer who may explore the schema but has no approved purpose.
"""

from __future__ import annotations

from gateway.auth.config import ApplicationSeed

#: HS256 secret of development tokens. Never use it outside a developer's machine.
DEV_SECRET = "jamajama-development-secret-do-not-use-in-production"
DEV_ISSUER = "jamajama-dev"
DEV_AUDIENCE = "jamajama"

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
        scopes=["kependudukan:read", "kesehatan:read"],
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

#: the end user each demo token names (``sub``)
DEMO_USERS: dict[str, str] = {
    "dasbor-gubernur": "staf.biro@lampungprov.go.id",
    "sibansos": "operator.dinsos@lampungprov.go.id",
    "sehat-lampung": "petugas.dinkes@lampungprov.go.id",
    "developer": "dev@diskominfo.lampungprov.go.id",
}
