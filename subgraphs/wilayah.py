"""Subgraph ``wilayah`` — Biro Pemerintahan / Bappeda: Lampung's regions.

Owns ``Wilayah @key(kode)``: the province, its 15 regencies/cities, 229 kecamatan and 2,651
desa/kelurahan with their real Kemendagri codes and names. Everything here is public reference
data (no authorization directive). Other OPDs extend ``Wilayah`` with their aggregates.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from subgraphs.kit.app import OpdInfo, Subgraph, federation_schema, load, row_by_key
from subgraphs.kit.ids import validate_region_code
from subgraphs.kit.pagination import DEFAULT_FIRST, Connection, fetch_page, to_connection
from subgraphs.kit.store import Row

# ---------------------------------------------------------------------------- data access


async def _load_wilayah(info: OpdInfo, kode: str) -> Wilayah | None:
    row = await row_by_key(info, "wilayah", "kode", kode)
    return Wilayah.from_row(row) if row else None


# ---------------------------------------------------------------------------- types


@strawberry.enum(description="Level of a region in the Kemendagri hierarchy.")
class Tingkat(Enum):
    PROVINSI = "provinsi"
    KABUPATEN_KOTA = "kabupaten_kota"
    KECAMATAN = "kecamatan"
    DESA_KELURAHAN = "desa_kelurahan"


@strawberry.federation.type(
    keys=["kode"], description="A region: province, regency/city, kecamatan or desa/kelurahan."
)
class Wilayah:
    kode: str = strawberry.field(description="Kemendagri code, e.g. `18.71` or `18.71.01.1001`.")
    nama: str = strawberry.federation.field(shareable=True)
    tingkat: Tingkat
    luas: float | None = strawberry.field(
        description="Area in km² (published for the province and regencies/cities only)."
    )
    parent_kode: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Row) -> Wilayah:
        return cls(
            kode=row["kode"],
            nama=row["nama"],
            tingkat=Tingkat(row["tingkat"]),
            luas=row["luas"],
            parent_kode=row["parent_kode"],
        )

    @classmethod
    async def resolve_reference(cls, info: OpdInfo, kode: str, **_: object) -> Wilayah | None:
        return await _load_wilayah(info, validate_region_code(kode))

    @strawberry.field(description="The region this one belongs to (null for the province).")
    async def parent(self, info: OpdInfo) -> Wilayah | None:
        return await _load_wilayah(info, self.parent_kode) if self.parent_kode else None

    @strawberry.field(description="The regions directly below this one, by code.")
    async def children(self, info: OpdInfo) -> list[Wilayah]:
        store = info.context.store
        rows = await load(
            info,
            "children",
            lambda keys: store.grouped_by_keys("wilayah", "parent_kode", keys, "kode"),
            self.kode,
        )
        return [Wilayah.from_row(r) for r in rows or []]


# ---------------------------------------------------------------------------- root fields


@strawberry.type
class Query:
    @strawberry.field(description="One region by its Kemendagri code (null if unknown).")
    async def wilayah(self, info: OpdInfo, kode: str) -> Wilayah | None:
        return await _load_wilayah(info, validate_region_code(kode))

    @strawberry.field(description="The province of Lampung (code 18).")
    async def provinsi(self, info: OpdInfo) -> Wilayah | None:
        return await _load_wilayah(info, "18")

    @strawberry.field(description="The 15 regencies (kabupaten) and cities (kota) of Lampung.")
    def kabupaten_kota(self, info: OpdInfo) -> list[Wilayah]:
        rows = info.context.store.query(
            "SELECT * FROM wilayah WHERE tingkat = ? ORDER BY kode", [Tingkat.KABUPATEN_KOTA.value]
        )
        return [Wilayah.from_row(r) for r in rows]

    @strawberry.field(description="Regions filtered by level and/or parent, a page at a time.")
    def wilayah_list(
        self,
        info: OpdInfo,
        tingkat: Tingkat | None = None,
        parent_kode: str | None = None,
        first: int = DEFAULT_FIRST,
        after: str | None = None,
    ) -> Connection[Wilayah] | None:
        where, params = ["1 = 1"], []
        if tingkat is not None:
            where.append("tingkat = ?")
            params.append(tingkat.value)
        if parent_kode is not None:
            where.append("parent_kode = ?")
            params.append(validate_region_code(parent_kode))
        page = fetch_page(
            info.context.store,
            table="wilayah",
            key="kode",
            where=" AND ".join(where),
            params=params,
            first=first,
            after=after,
        )
        return to_connection(page, [Wilayah.from_row(r) for r in page.rows])


schema = federation_schema(Query, types=[Wilayah])
SUBGRAPH = Subgraph("wilayah", schema, default_port=4001)
