"""Subgraph ``pendidikan`` — Dinas Pendidikan: schools and pupils.

Owns ``Sekolah @key(npsn)`` (SD/SMP/SMA/SMK/SLB, negeri/swasta; the school directory is public).
Extends ``Penduduk`` with ``pendidikan`` (the pupil record: school, grade, NISN — scope
``pendidikan:read`` and policy ``data_pribadi``) and ``Wilayah`` with ``jumlahSekolah`` and
``sekolah`` (aggregates and lists: authenticated callers).
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from subgraphs.kit.access import personal_data
from subgraphs.kit.app import OpdInfo, Subgraph, federation_schema, load, row_by_key
from subgraphs.kit.ids import validate_nik, validate_npsn, validate_region_code
from subgraphs.kit.pagination import (
    DEFAULT_FIRST,
    Connection,
    fetch_page,
    page_in_region,
    to_connection,
)
from subgraphs.kit.reference import regions_by_kode
from subgraphs.kit.store import Row

SCOPE = "pendidikan:read"
PRIBADI = personal_data(SCOPE)

# ---------------------------------------------------------------------------- data access


async def _sekolah_row(info: OpdInfo, npsn: str) -> Row | None:
    return await row_by_key(info, "sekolah", "npsn", npsn)


async def _siswa_row(info: OpdInfo, nik: str) -> Row | None:
    return await row_by_key(info, "siswa", "nik", nik)


async def _jumlah_sekolah(info: OpdInfo, kode: str, jenjang: str) -> int | None:
    store = info.context.store

    def fetch(keys: list[str]) -> dict[str, int]:
        rows = store.by_keys("agregat", "kode", keys, where="jenjang = ?", params=[jenjang])
        return {k: r["jumlah_sekolah"] for k, r in rows.items()}

    return await load(info, f"jumlah_sekolah:{jenjang}", fetch, kode)


def _sekolah_page(
    info: OpdInfo, kode: str, jenjang: Jenjang | None, first: int, after: str | None
) -> Connection[Sekolah] | None:
    return page_in_region(
        info.context.store,
        table="sekolah",
        key="npsn",
        region=kode,
        first=first,
        after=after,
        node=Sekolah.from_row,
        equal={"jenjang": jenjang.value if jenjang else None},
    )


# ---------------------------------------------------------------------------- types


@strawberry.enum
class Jenjang(Enum):
    SD = "SD"
    SMP = "SMP"
    SMA = "SMA"
    SMK = "SMK"
    SLB = "SLB"


@strawberry.enum
class StatusSekolah(Enum):
    NEGERI = "NEGERI"
    SWASTA = "SWASTA"


@strawberry.federation.type(keys=["kode"])
class Wilayah:
    kode: str

    @classmethod
    def resolve_reference(cls, info: OpdInfo, kode: str, **_: object) -> Wilayah | None:
        validate_region_code(kode)
        return cls(kode=kode) if kode in regions_by_kode() else None

    @strawberry.federation.field(
        authenticated=True, description="Schools located in this region (optionally one level)."
    )
    async def jumlah_sekolah(self, info: OpdInfo, jenjang: Jenjang | None = None) -> int | None:
        return await _jumlah_sekolah(info, self.kode, jenjang.value if jenjang else "")

    @strawberry.federation.field(authenticated=True, description="Schools here, by NPSN.")
    def sekolah(
        self,
        info: OpdInfo,
        jenjang: Jenjang | None = None,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
    ) -> Connection[Sekolah] | None:
        return _sekolah_page(info, self.kode, jenjang, first, after)


@strawberry.federation.type(keys=["npsn"], description="A school registered in Dapodik.")
class Sekolah:
    npsn: str = strawberry.field(description="NPSN, 8 digits.")
    nama: str
    jenjang: Jenjang
    status: StatusSekolah
    alamat: str
    desa_kode: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row) -> Sekolah:
        return cls(
            npsn=row["npsn"],
            nama=row["nama"],
            jenjang=Jenjang(row["jenjang"]),
            status=StatusSekolah(row["status"]),
            alamat=row["alamat"],
            desa_kode=row["desa_kode"],
        )

    @classmethod
    async def resolve_reference(cls, info: OpdInfo, npsn: str, **_: object) -> Sekolah | None:
        row = await _sekolah_row(info, validate_npsn(npsn))
        return cls.from_row(row) if row else None

    @strawberry.field(description="The desa/kelurahan where the school stands.")
    def wilayah(self) -> Wilayah:
        return Wilayah(kode=self.desa_kode)

    @strawberry.federation.field(**PRIBADI, description="Pupils enrolled, by NIK.")
    def siswa(
        self, info: OpdInfo, first: int = DEFAULT_FIRST, after: str | None = None
    ) -> Connection[PesertaDidik] | None:
        page = fetch_page(
            info.context.store,
            table="siswa",
            key="nik",
            where="npsn = ?",
            params=[self.npsn],
            first=first,
            after=after,
        )
        return to_connection(page, [PesertaDidik.from_row(r) for r in page.rows])


@strawberry.type(description="A pupil's enrolment: who, where, which grade.")
class PesertaDidik:
    nisn: str = strawberry.field(description="NISN, 10 digits.")
    kelas: int = strawberry.field(description="Grade 1-12 (SD 1-6, SMP 7-9, SMA/SMK 10-12).")
    nik: strawberry.Private[str]
    npsn: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row) -> PesertaDidik:
        return cls(nisn=row["nisn"], kelas=row["kelas"], nik=row["nik"], npsn=row["npsn"])

    @strawberry.field
    async def sekolah(self, info: OpdInfo) -> Sekolah | None:
        row = await _sekolah_row(info, self.npsn)
        return Sekolah.from_row(row) if row else None

    @strawberry.field(description="The pupil as a resident (resolved by kependudukan).")
    def penduduk(self) -> Penduduk:
        return Penduduk(nik=self.nik)


@strawberry.federation.type(keys=["nik"])
class Penduduk:
    nik: str

    @classmethod
    def resolve_reference(cls, info: OpdInfo, nik: str, **_: object) -> Penduduk:
        return cls(nik=validate_nik(nik, today=date.today()))

    @strawberry.federation.field(**PRIBADI, description="Null if not enrolled in a school.")
    async def pendidikan(self, info: OpdInfo) -> PesertaDidik | None:
        row = await _siswa_row(info, self.nik)
        return PesertaDidik.from_row(row) if row else None


# ---------------------------------------------------------------------------- root fields


@strawberry.type
class Query:
    @strawberry.field(description="A school by NPSN (public directory data).")
    async def sekolah(self, info: OpdInfo, npsn: str) -> Sekolah | None:
        row = await _sekolah_row(info, validate_npsn(npsn))
        return Sekolah.from_row(row) if row else None

    @strawberry.federation.field(authenticated=True, description="Schools in a region, by NPSN.")
    def daftar_sekolah(
        self,
        info: OpdInfo,
        wilayah_kode: str = "18",
        jenjang: Jenjang | None = None,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
    ) -> Connection[Sekolah] | None:
        return _sekolah_page(info, validate_region_code(wilayah_kode), jenjang, first, after)


schema = federation_schema(Query, types=[Sekolah, Penduduk, Wilayah])
SUBGRAPH = Subgraph("pendidikan", schema, default_port=4004)
