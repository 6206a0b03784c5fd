"""Subgraph ``kependudukan`` — Disdukcapil (civil registry): residents and families.

Owns ``Penduduk @key(nik)`` and ``Keluarga @key(noKk)``; extends ``Wilayah`` with
``jumlahPenduduk`` (the population that kesehatan's ``cakupanJkn`` ``@requires``) and serves
``Wilayah.nama`` too (``@shareable``: the civil registry keeps the region master it prints on
every KK).

Access: the NIK and No. KK are entity keys (the gateway masks NIKs without ``kependudukan:nik``);
every personal field needs scope ``kependudukan:read`` and policy ``data_pribadi``; aggregates per
region need an authenticated caller.
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from subgraphs.kit.access import personal_data
from subgraphs.kit.app import OpdInfo, Subgraph, federation_schema, load, row_by_key
from subgraphs.kit.ids import validate_nik, validate_no_kk, validate_region_code
from subgraphs.kit.pagination import (
    DEFAULT_FIRST,
    Connection,
    page_in_region,
)
from subgraphs.kit.reference import regions_by_kode
from subgraphs.kit.store import Row

SCOPE = "kependudukan:read"
PRIBADI = personal_data(SCOPE)

# ---------------------------------------------------------------------------- data access


async def _penduduk_row(info: OpdInfo, nik: str) -> Row | None:
    return await row_by_key(info, "penduduk", "nik", nik)


async def _keluarga_row(info: OpdInfo, no_kk: str) -> Row | None:
    return await row_by_key(info, "keluarga", "no_kk", no_kk)


async def _anggota_rows(info: OpdInfo, no_kk: str) -> list[Row]:
    store = info.context.store
    rows = await load(
        info,
        "anggota",
        lambda k: store.grouped_by_keys("penduduk", "no_kk", k, "no_kk, urutan"),
        no_kk,
    )
    return rows or []


async def _agregat(info: OpdInfo, kode: str) -> Row | None:
    return await row_by_key(info, "agregat", "kode", kode)


def _today() -> date:
    return date.today()


# ---------------------------------------------------------------------------- types


@strawberry.enum
class JenisKelamin(Enum):
    LAKI_LAKI = "LAKI_LAKI"
    PEREMPUAN = "PEREMPUAN"


@strawberry.enum
class Agama(Enum):
    ISLAM = "ISLAM"
    KRISTEN = "KRISTEN"
    KATOLIK = "KATOLIK"
    HINDU = "HINDU"
    BUDDHA = "BUDDHA"
    KONGHUCU = "KONGHUCU"


@strawberry.enum
class StatusPerkawinan(Enum):
    BELUM_KAWIN = "BELUM_KAWIN"
    KAWIN = "KAWIN"
    CERAI_HIDUP = "CERAI_HIDUP"
    CERAI_MATI = "CERAI_MATI"


@strawberry.enum(description="Relation to the head of the family, as printed on the KK.")
class HubunganKeluarga(Enum):
    KEPALA_KELUARGA = "KEPALA_KELUARGA"
    ISTRI = "ISTRI"
    ANAK = "ANAK"
    ORANG_TUA = "ORANG_TUA"


@strawberry.federation.type(keys=["kode"])
class Wilayah:
    kode: str
    nama: str = strawberry.federation.field(shareable=True)

    @classmethod
    def of(cls, kode: str) -> Wilayah:
        return cls(kode=kode, nama=regions_by_kode()[kode].nama)

    @classmethod
    def resolve_reference(cls, info: OpdInfo, kode: str, **_: object) -> Wilayah | None:
        validate_region_code(kode)
        return cls.of(kode) if kode in regions_by_kode() else None

    @strawberry.federation.field(
        authenticated=True, description="Registered residents living in this region."
    )
    async def jumlah_penduduk(self, info: OpdInfo) -> int | None:
        row = await _agregat(info, self.kode)
        return row["jumlah_penduduk"] if row else None

    @strawberry.federation.field(authenticated=True, description="Families (KK) in this region.")
    async def jumlah_keluarga(self, info: OpdInfo) -> int | None:
        row = await _agregat(info, self.kode)
        return row["jumlah_keluarga"] if row else None


@strawberry.federation.type(keys=["nik"], description="A resident registered by Disdukcapil.")
class Penduduk:
    nik: str = strawberry.field(description="NIK: 16 digits PPKKCC DDMMYY SSSS.")
    row: strawberry.Private[Row]

    @classmethod
    async def resolve_reference(cls, info: OpdInfo, nik: str, **_: object) -> Penduduk | None:
        row = await _penduduk_row(info, validate_nik(nik, today=_today()))
        return cls(nik=nik, row=row) if row else None

    @strawberry.federation.field(**PRIBADI)
    def nama(self) -> str:
        return str(self.row["nama"])

    @strawberry.federation.field(**PRIBADI)
    def jenis_kelamin(self) -> JenisKelamin:
        return JenisKelamin(self.row["jenis_kelamin"])

    @strawberry.federation.field(**PRIBADI)
    def tempat_lahir(self) -> str:
        return str(self.row["tempat_lahir"])

    @strawberry.federation.field(**PRIBADI)
    def tanggal_lahir(self) -> date:
        return date.fromisoformat(self.row["tanggal_lahir"])

    @strawberry.federation.field(**PRIBADI)
    def agama(self) -> Agama:
        return Agama(self.row["agama"])

    @strawberry.federation.field(**PRIBADI)
    def status_perkawinan(self) -> StatusPerkawinan:
        return StatusPerkawinan(self.row["status_perkawinan"])

    @strawberry.federation.field(**PRIBADI)
    def pekerjaan(self) -> str:
        return str(self.row["pekerjaan"])

    @strawberry.federation.field(**PRIBADI)
    def alamat(self) -> str:
        return str(self.row["alamat"])

    @strawberry.federation.field(**PRIBADI)
    def hubungan_keluarga(self) -> HubunganKeluarga:
        return HubunganKeluarga(self.row["hubungan"])

    @strawberry.federation.field(**PRIBADI, description="The desa/kelurahan of residence.")
    def wilayah(self) -> Wilayah:
        return Wilayah.of(self.row["desa_kode"])

    @strawberry.federation.field(**PRIBADI)
    async def keluarga(self, info: OpdInfo) -> Keluarga | None:
        row = await _keluarga_row(info, self.row["no_kk"])
        return Keluarga(no_kk=row["no_kk"], row=row) if row else None


@strawberry.federation.type(keys=["noKk"], description="A family as registered on one KK.")
class Keluarga:
    no_kk: str = strawberry.field(description="No. KK: 16 digits PPKKCC DDMMYY SSSS.")
    row: strawberry.Private[Row]

    @classmethod
    async def resolve_reference(cls, info: OpdInfo, noKk: str, **_: object) -> Keluarga | None:
        row = await _keluarga_row(info, validate_no_kk(noKk))
        return cls(no_kk=noKk, row=row) if row else None

    @strawberry.federation.field(**PRIBADI)
    async def kepala_keluarga(self, info: OpdInfo) -> Penduduk | None:
        row = await _penduduk_row(info, self.row["nik_kepala"])
        return Penduduk(nik=row["nik"], row=row) if row else None

    @strawberry.federation.field(**PRIBADI, description="Members in KK order.")
    async def anggota(self, info: OpdInfo) -> list[Penduduk]:
        return [Penduduk(nik=r["nik"], row=r) for r in await _anggota_rows(info, self.no_kk)]

    @strawberry.federation.field(**PRIBADI)
    def alamat(self) -> str:
        return str(self.row["alamat"])

    @strawberry.federation.field(**PRIBADI)
    def wilayah(self) -> Wilayah:
        return Wilayah.of(self.row["desa_kode"])

    @strawberry.federation.field(**PRIBADI)
    def tanggal_terbit(self) -> date:
        return date.fromisoformat(self.row["tanggal_terbit"])


# ---------------------------------------------------------------------------- root fields


@strawberry.type
class Query:
    @strawberry.federation.field(authenticated=True, description="A resident by NIK.")
    async def penduduk(self, info: OpdInfo, nik: str) -> Penduduk | None:
        row = await _penduduk_row(info, validate_nik(nik, today=_today()))
        return Penduduk(nik=nik, row=row) if row else None

    @strawberry.federation.field(authenticated=True, description="A family by No. KK.")
    async def keluarga(self, info: OpdInfo, no_kk: str) -> Keluarga | None:
        row = await _keluarga_row(info, validate_no_kk(no_kk))
        return Keluarga(no_kk=no_kk, row=row) if row else None

    @strawberry.federation.field(
        **PRIBADI,
        description="Residents of a region (any level), by NIK, a page at a time.",
    )
    def daftar_penduduk(
        self,
        info: OpdInfo,
        wilayah_kode: str,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
    ) -> Connection[Penduduk] | None:
        return page_in_region(
            info.context.store,
            table="penduduk",
            key="nik",
            region=validate_region_code(wilayah_kode),
            first=first,
            after=after,
            node=lambda row: Penduduk(nik=row["nik"], row=row),
        )


schema = federation_schema(Query, types=[Penduduk, Keluarga, Wilayah])
SUBGRAPH = Subgraph("kependudukan", schema, default_port=4002)
