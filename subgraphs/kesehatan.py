"""Subgraph ``kesehatan`` — Dinas Kesehatan: health facilities, JKN membership, immunisation.

Owns ``FasilitasKesehatan @key(kode)`` (puskesmas, klinik, rumah sakit). Extends ``Penduduk``
with ``kepesertaanJkn`` and ``riwayatImunisasi`` (health records: scope ``kesehatan:read`` and
policy ``data_pribadi``) and ``Wilayah`` with ``cakupanJkn``, computed from kependudukan's
``jumlahPenduduk`` through ``@requires`` (the gateway fetches the population first and passes it
in the representation).
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from subgraphs.kit.access import personal_data
from subgraphs.kit.app import OpdInfo, Subgraph, federation_schema, load, row_by_key
from subgraphs.kit.ids import validate_faskes_code, validate_nik, validate_region_code
from subgraphs.kit.pagination import (
    DEFAULT_FIRST,
    Connection,
    page_in_region,
)
from subgraphs.kit.reference import regions_by_kode
from subgraphs.kit.store import Row

SCOPE = "kesehatan:read"
PRIBADI = personal_data(SCOPE)

# ---------------------------------------------------------------------------- data access


async def _fasilitas_row(info: OpdInfo, kode: str) -> Row | None:
    return await row_by_key(info, "fasilitas", "kode", kode)


async def _peserta_row(info: OpdInfo, nik: str) -> Row | None:
    return await row_by_key(info, "peserta", "nik", nik)


async def _imunisasi_rows(info: OpdInfo, nik: str) -> list[Row]:
    store = info.context.store
    rows = await load(
        info,
        "imunisasi",
        lambda k: store.grouped_by_keys("imunisasi", "nik", k, "nik, tanggal, rowid"),
        nik,
    )
    return rows or []


async def _agregat(info: OpdInfo, kode: str) -> Row | None:
    return await row_by_key(info, "agregat", "kode", kode)


def _fasilitas_page(
    info: OpdInfo, kode: str, jenis: JenisFasilitas | None, first: int, after: str | None
) -> Connection[FasilitasKesehatan] | None:
    return page_in_region(
        info.context.store,
        table="fasilitas",
        key="kode",
        region=kode,
        first=first,
        after=after,
        node=FasilitasKesehatan.from_row,
        equal={"jenis": jenis.value if jenis else None},
    )


# ---------------------------------------------------------------------------- types


@strawberry.enum
class JenisFasilitas(Enum):
    PUSKESMAS = "PUSKESMAS"
    KLINIK = "KLINIK"
    RUMAH_SAKIT = "RUMAH_SAKIT"


@strawberry.enum(description="JKN segment: PBI (contribution paid by the state), PPU (wage "
                 "earners), PBPU (self-paying), BP (non-workers such as pensioners).")  # fmt: skip
class SegmenJkn(Enum):
    PBI = "PBI"
    PPU = "PPU"
    PBPU = "PBPU"
    BP = "BP"


@strawberry.federation.type(keys=["kode"])
class Wilayah:
    kode: str
    jumlah_penduduk: int | None = strawberry.federation.field(external=True, default=None)

    @classmethod
    def resolve_reference(
        cls,
        info: OpdInfo,
        kode: str,
        jumlahPenduduk: int | None = None,
        **_: object,
    ) -> Wilayah | None:
        validate_region_code(kode)
        return cls(kode=kode, jumlah_penduduk=jumlahPenduduk) if kode in regions_by_kode() else None

    @strawberry.federation.field(
        requires=["jumlahPenduduk"],
        authenticated=True,
        description="Share of residents (0..1, 4 decimals) with an active JKN membership.",
    )
    async def cakupan_jkn(self, info: OpdInfo) -> float | None:
        row = await _agregat(info, self.kode)
        if row is None or not self.jumlah_penduduk:
            return None
        return round(row["jumlah_peserta_aktif"] / self.jumlah_penduduk, 4)

    @strawberry.federation.field(authenticated=True, description="Active JKN members living here.")
    async def jumlah_peserta_jkn(self, info: OpdInfo) -> int | None:
        row = await _agregat(info, self.kode)
        return row["jumlah_peserta_aktif"] if row else None

    @strawberry.federation.field(authenticated=True, description="Facilities located here.")
    def fasilitas_kesehatan(
        self,
        info: OpdInfo,
        jenis: JenisFasilitas | None = None,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
    ) -> Connection[FasilitasKesehatan] | None:
        return _fasilitas_page(info, self.kode, jenis, first, after)


@strawberry.federation.type(keys=["kode"], description="A puskesmas, klinik or rumah sakit.")
class FasilitasKesehatan:
    kode: str = strawberry.field(description="P/K/R and 8 digits, e.g. `P18710101`.")
    nama: str
    jenis: JenisFasilitas
    alamat: str
    desa_kode: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row) -> FasilitasKesehatan:
        return cls(
            kode=row["kode"],
            nama=row["nama"],
            jenis=JenisFasilitas(row["jenis"]),
            alamat=row["alamat"],
            desa_kode=row["desa_kode"],
        )

    @classmethod
    async def resolve_reference(
        cls, info: OpdInfo, kode: str, **_: object
    ) -> FasilitasKesehatan | None:
        row = await _fasilitas_row(info, validate_faskes_code(kode))
        return cls.from_row(row) if row else None

    @strawberry.field(description="The desa/kelurahan where the facility stands.")
    def wilayah(self) -> Wilayah:
        return Wilayah(kode=self.desa_kode)


@strawberry.type(description="A JKN (BPJS Kesehatan) membership.")
class KepesertaanJkn:
    nomor_kartu: str = strawberry.field(description="JKN card number, 13 digits.")
    segmen: SegmenJkn
    aktif: bool
    faskes_kode: strawberry.Private[str]

    @strawberry.field(description="The first-level facility (FKTP) the member is registered at.")
    async def faskes_tingkat_pertama(self, info: OpdInfo) -> FasilitasKesehatan | None:
        row = await _fasilitas_row(info, self.faskes_kode)
        return FasilitasKesehatan.from_row(row) if row else None


@strawberry.type(description="One vaccine dose given.")
class Imunisasi:
    vaksin: str
    tanggal: date
    faskes_kode: strawberry.Private[str]

    @strawberry.field
    async def fasilitas(self, info: OpdInfo) -> FasilitasKesehatan | None:
        row = await _fasilitas_row(info, self.faskes_kode)
        return FasilitasKesehatan.from_row(row) if row else None


@strawberry.federation.type(keys=["nik"])
class Penduduk:
    nik: str

    @classmethod
    def resolve_reference(cls, info: OpdInfo, nik: str, **_: object) -> Penduduk:
        return cls(nik=validate_nik(nik, today=date.today()))

    @strawberry.federation.field(**PRIBADI, description="Null if not a JKN member.")
    async def kepesertaan_jkn(self, info: OpdInfo) -> KepesertaanJkn | None:
        row = await _peserta_row(info, self.nik)
        if row is None:
            return None
        return KepesertaanJkn(
            nomor_kartu=row["nomor_kartu"],
            segmen=SegmenJkn(row["segmen"]),
            aktif=bool(row["aktif"]),
            faskes_kode=row["faskes_kode"],
        )

    @strawberry.federation.field(**PRIBADI, description="Doses recorded, oldest first.")
    async def riwayat_imunisasi(self, info: OpdInfo) -> list[Imunisasi]:
        return [
            Imunisasi(
                vaksin=r["vaksin"],
                tanggal=date.fromisoformat(r["tanggal"]),
                faskes_kode=r["faskes_kode"],
            )
            for r in await _imunisasi_rows(info, self.nik)
        ]


# ---------------------------------------------------------------------------- root fields


@strawberry.type
class Query:
    @strawberry.field(description="A health facility by code (public directory data).")
    async def fasilitas_kesehatan(self, info: OpdInfo, kode: str) -> FasilitasKesehatan | None:
        row = await _fasilitas_row(info, validate_faskes_code(kode))
        return FasilitasKesehatan.from_row(row) if row else None

    @strawberry.federation.field(
        authenticated=True, description="Facilities in a region (any level), by code."
    )
    def daftar_fasilitas_kesehatan(
        self,
        info: OpdInfo,
        wilayah_kode: str = "18",
        jenis: JenisFasilitas | None = None,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
    ) -> Connection[FasilitasKesehatan] | None:
        return _fasilitas_page(info, validate_region_code(wilayah_kode), jenis, first, after)


schema = federation_schema(Query, types=[FasilitasKesehatan, Penduduk, Wilayah])
SUBGRAPH = Subgraph("kesehatan", schema, default_port=4003)
