"""The data-owning OPDs as the portal presents them: display name, the owner's contact, the legal
basis of the data they hold. The registry's catalogue has no such profile yet (it lists what
each subgraph serves): until it does, this is the one place they are written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Opd:
    subgraph: str
    name: str
    contact: str
    legal_basis: str


OPDS: dict[str, Opd] = {
    o.subgraph: o
    for o in (
        Opd(
            "wilayah",
            "Biro Pemerintahan dan Otonomi Daerah",
            "biro.pemerintahan@lampungprov.go.id",
            "Permendagri 72/2019 (kode dan data wilayah administrasi pemerintahan)",
        ),
        Opd(
            "kependudukan",
            "Dinas Kependudukan dan Pencatatan Sipil",
            "disdukcapil@lampungprov.go.id",
            "UU 24/2013 (Administrasi Kependudukan); UU 27/2022 (Pelindungan Data Pribadi)",
        ),
        Opd(
            "kesehatan",
            "Dinas Kesehatan",
            "dinkes@lampungprov.go.id",
            "UU 17/2023 (Kesehatan); UU 27/2022 (Pelindungan Data Pribadi)",
        ),
        Opd(
            "pendidikan",
            "Dinas Pendidikan dan Kebudayaan",
            "disdikbud@lampungprov.go.id",
            "UU 20/2003 (Sistem Pendidikan Nasional); UU 27/2022 (Pelindungan Data Pribadi)",
        ),
        Opd(
            "sosial",
            "Dinas Sosial",
            "dinsos@lampungprov.go.id",
            "UU 13/2011 (Penanganan Fakir Miskin); Permensos 3/2021 (DTKS)",
        ),
    )
}


def profile(subgraph: str) -> Opd:
    return OPDS.get(subgraph) or Opd(subgraph, subgraph, "", "")
