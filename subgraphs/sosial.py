"""Subgraph ``sosial`` — Dinas Sosial: social-assistance programmes and the families they reach.

Owns the programme list (PKH, BPNT/Sembako, BLT Dana Desa, PBI-JK). Extends ``Keluarga`` with
``penerimaBansos`` and ``desilKesejahteraan`` (welfare decile 1-10 from the national welfare
register; both personal data: scope ``sosial:read`` and policy ``data_pribadi``) and ``Wilayah``
with ``jumlahKeluargaPenerima`` (an aggregate: authenticated callers).

Publishes one subscription, ``penyaluranBansos``: each assistance disbursement recorded by
``catatPenyaluranBansos`` (scope ``sosial:write``; how an operations screen, dev and the tests
trigger events) is sent to the open subscriptions whose filters it matches. The event names the
family (personal data) and its village (a ``Wilayah`` the gateway completes from ``wilayah``).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from enum import Enum

import strawberry
from strawberry.federation.schema_directives import Authenticated

from subgraphs.kit.access import personal_data
from subgraphs.kit.app import OpdInfo, Subgraph, federation_schema, load, row_by_key
from subgraphs.kit.errors import InvalidInput
from subgraphs.kit.ids import validate_no_kk, validate_region_code
from subgraphs.kit.reference import regions_by_kode
from subgraphs.kit.store import Row

SCOPE = "sosial:read"
PRIBADI = personal_data(SCOPE)
#: recording a disbursement (the mutation that publishes ``penyaluranBansos`` events)
WRITE_SCOPE = "sosial:write"
#: the broker topic of disbursement events (subgraphs/kit/events.py)
TOPIC_PENYALURAN = "penyaluran_bansos"

# ---------------------------------------------------------------------------- data access


async def _program_row(info: OpdInfo, kode: str) -> Row | None:
    return await row_by_key(info, "program", "kode", kode)


async def _keluarga_row(info: OpdInfo, no_kk: str) -> Row | None:
    return await row_by_key(info, "keluarga", "no_kk", no_kk)


async def _penerimaan_rows(info: OpdInfo, no_kk: str) -> list[Row]:
    store = info.context.store
    rows = await load(
        info,
        "penerima",
        lambda k: store.grouped_by_keys("penerima", "no_kk", k, "no_kk, tahun, program"),
        no_kk,
    )
    return rows or []


async def _jumlah_penerima(info: OpdInfo, kode: str, program: str) -> int | None:
    store = info.context.store

    def fetch(keys: list[str]) -> dict[str, int]:
        rows = store.by_keys("agregat", "kode", keys, where="program = ?", params=[program])
        return {k: r["jumlah_keluarga"] for k, r in rows.items()}

    return await load(info, f"jumlah_penerima:{program}", fetch, kode)


# ---------------------------------------------------------------------------- types


@strawberry.enum(description="Social-assistance programmes run through Dinas Sosial.")
class KodeProgramBansos(Enum):
    PKH = "PKH"
    BPNT = "BPNT"
    BLT = "BLT"
    PBI_JK = "PBI_JK"


@strawberry.type(description="A social-assistance programme.")
class ProgramBansos:
    kode: KodeProgramBansos
    nama: str
    deskripsi: str

    @classmethod
    def from_row(cls, row: Row) -> ProgramBansos:
        return cls(
            kode=KodeProgramBansos(row["kode"]), nama=row["nama"], deskripsi=row["deskripsi"]
        )


@strawberry.type(description="Assistance a family receives from one programme in one year.")
class PenerimaanBansos:
    tahun: int
    nominal: int = strawberry.field(description="Rupiah per year (PBI-JK: contributions paid).")
    aktif: bool
    program_kode: strawberry.Private[str]

    @strawberry.field
    async def program(self, info: OpdInfo) -> ProgramBansos | None:
        row = await _program_row(info, self.program_kode)
        return ProgramBansos.from_row(row) if row else None


@strawberry.federation.type(keys=["noKk"])
class Keluarga:
    no_kk: str

    @classmethod
    def resolve_reference(cls, info: OpdInfo, noKk: str, **_: object) -> Keluarga:
        return cls(no_kk=validate_no_kk(noKk))

    @strawberry.federation.field(**PRIBADI, description="Assistance received, by year.")
    async def penerima_bansos(self, info: OpdInfo) -> list[PenerimaanBansos]:
        return [
            PenerimaanBansos(
                tahun=r["tahun"], nominal=r["nominal"], aktif=bool(r["aktif"]),
                program_kode=r["program"],
            )
            for r in await _penerimaan_rows(info, self.no_kk)
        ]  # fmt: skip

    @strawberry.federation.field(
        **PRIBADI,
        description="Welfare decile 1 (poorest) to 10; null if not in the welfare register.",
    )
    async def desil_kesejahteraan(self, info: OpdInfo) -> int | None:
        row = await _keluarga_row(info, self.no_kk)
        return row["desil"] if row else None


@strawberry.federation.type(keys=["kode"])
class Wilayah:
    kode: str

    @classmethod
    def resolve_reference(cls, info: OpdInfo, kode: str, **_: object) -> Wilayah | None:
        validate_region_code(kode)
        return cls(kode=kode) if kode in regions_by_kode() else None

    @strawberry.federation.field(
        authenticated=True,
        description="Families living here with active assistance (of one programme, or any).",
    )
    async def jumlah_keluarga_penerima(
        self, info: OpdInfo, program: KodeProgramBansos | None = None
    ) -> int | None:
        return await _jumlah_penerima(info, self.kode, program.value if program else "")


@strawberry.type(
    description="One assistance disbursement, as Dinas Sosial records it (a subscription event)."
)
class PenyaluranBansos:
    id: strawberry.ID
    program_kode: strawberry.Private[str]
    no_kk: strawberry.Private[str]
    desa_kode: strawberry.Private[str]
    # personal fields are nullable: a caller refused them still gets the rest of the event
    nominal: int | None = strawberry.federation.field(**PRIBADI, description="Rupiah disbursed.")
    waktu: str = strawberry.field(description="When it was recorded (ISO 8601, UTC).")

    @strawberry.field
    async def program(self, info: OpdInfo) -> ProgramBansos | None:
        row = await _program_row(info, self.program_kode)
        return ProgramBansos.from_row(row) if row else None

    @strawberry.federation.field(**PRIBADI, description="The family that received it.")
    def keluarga(self) -> Keluarga | None:
        return Keluarga(no_kk=self.no_kk)

    @strawberry.field(description="The family's village.")
    def wilayah(self) -> Wilayah:
        return Wilayah(kode=self.desa_kode)


_ids = itertools.count(1)


def _within(desa_kode: str, kode: str | None) -> bool:
    return kode is None or desa_kode == kode or desa_kode.startswith(kode + ".")


# ---------------------------------------------------------------------------- root fields


@strawberry.type
class Query:
    @strawberry.field(description="The social-assistance programmes (public information).")
    def program_bansos(self, info: OpdInfo) -> list[ProgramBansos]:
        rows = info.context.store.query("SELECT * FROM program ORDER BY kode")
        return [ProgramBansos.from_row(r) for r in rows]


@strawberry.type
class Mutation:
    @strawberry.federation.field(
        requires_scopes=[[WRITE_SCOPE]],
        description="Record a disbursement to a family in the welfare register; publishes it to "
        "penyaluranBansos subscriptions.",
    )
    async def catat_penyaluran_bansos(
        self, info: OpdInfo, no_kk: str, program: KodeProgramBansos, nominal: int
    ) -> PenyaluranBansos:
        if nominal <= 0:
            raise InvalidInput("nominal must be positive", reason="INVALID_NOMINAL")
        row = await _keluarga_row(info, validate_no_kk(no_kk))
        if row is None:
            raise InvalidInput(f"no family {no_kk} in the welfare register", reason="UNKNOWN_NO_KK")
        event = PenyaluranBansos(
            id=strawberry.ID(f"PB-{next(_ids)}"),
            program_kode=program.value,
            no_kk=no_kk,
            desa_kode=row["desa_kode"],
            nominal=nominal,
            waktu=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        info.context.events.publish(TOPIC_PENYALURAN, event)
        return event


@strawberry.type
class Subscription:
    @strawberry.subscription(
        directives=[Authenticated()],
        description="Disbursements as they are recorded (of one programme, in one region, or all).",
    )
    async def penyaluran_bansos(
        self,
        info: OpdInfo,
        program: KodeProgramBansos | None = None,
        kode_wilayah: str | None = None,
    ) -> AsyncGenerator[PenyaluranBansos, None]:
        if kode_wilayah is not None:
            validate_region_code(kode_wilayah)
        async for event in info.context.events.subscribe(TOPIC_PENYALURAN):
            if (program is None or event.program_kode == program.value) and _within(
                event.desa_kode, kode_wilayah
            ):
                yield event


schema = federation_schema(
    Query, types=[Keluarga, Wilayah], mutation=Mutation, subscription=Subscription
)
SUBGRAPH = Subgraph("sosial", schema, default_port=4005)
