"""The one deterministic generator behind every OPD store.

``generate(seed, scale, out_dir)`` builds a synthetic but consistent Lampung and writes one SQLite
file per subgraph (``wilayah.sqlite3``, ``kependudukan.sqlite3``, ...). Because one generator
writes all five, the data agrees across OPDs: every NIK kesehatan knows is a resident in
kependudukan, pupils in pendidikan are residents of school age, families in sosial are the
families of kependudukan, and PBI-JK assistance (sosial) matches the PBI segment of JKN
(kesehatan).

- Regions are real (Kemendagri codes and names of the province, 15 regencies/cities, 229 kecamatan
  and 2,651 desa/kelurahan). Each regency/city gets ``round(real population * scale)`` residents,
  grouped in families, spread uniformly over its desa/kelurahan (desa populations are not
  published).
- Names, streets and some birthplaces come from Faker's ``id_ID`` locale, seeded; everything else
  from one seeded ``random.Random``. Ages are counted at :data:`REFERENCE_DATE` (not "today"), so
  the same seed and scale give byte-identical rows on every machine with the same Faker version.
- :func:`ensure_world` caches the files under ``var/data/<seed>-<scale>-v<version>-faker<v>/``;
  a second start only opens them.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import faker

from . import ids
from .reference import (
    DESA_KELURAHAN,
    KABUPATEN_KOTA,
    KECAMATAN,
    Region,
    ancestors_and_self,
    population,
    regions,
    short_name,
)

GENERATOR_VERSION = 1
DEFAULT_SEED = 18
#: fraction of the real population (9,144,263) generated: 0.001 gives ~9,100 residents.
DEFAULT_SCALE = 0.001
#: the day the data describes; ages and "active" statuses are counted at this date.
REFERENCE_DATE = date(2025, 7, 1)
STORES = ("wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial")

AGAMA = (
    ("ISLAM", 955),
    ("KRISTEN", 19),
    ("KATOLIK", 13),
    ("HINDU", 9),
    ("BUDDHA", 4),
    ("KONGHUCU", 1),
)
PEKERJAAN_LAKI = (
    ("Petani/Pekebun", 30),
    ("Wiraswasta", 15),
    ("Buruh Harian Lepas", 12),
    ("Karyawan Swasta", 12),
    ("Pedagang", 8),
    ("Sopir", 3),
    ("Nelayan/Perikanan", 3),
    ("Pegawai Negeri Sipil", 4),
    ("Guru", 2),
    ("Kepolisian RI", 1),
    ("Belum/Tidak Bekerja", 5),
)
PEKERJAAN_PEREMPUAN = (
    ("Mengurus Rumah Tangga", 45),
    ("Petani/Pekebun", 12),
    ("Wiraswasta", 10),
    ("Pedagang", 10),
    ("Karyawan Swasta", 10),
    ("Buruh Harian Lepas", 5),
    ("Guru", 4),
    ("Pegawai Negeri Sipil", 4),
)
#: workers whose employer pays JKN (segment PPU).
PEKERJAAN_PPU = {"Karyawan Swasta", "Pegawai Negeri Sipil", "Guru", "Kepolisian RI"}
FAMILY_SIZES = ((1, 8), (2, 14), (3, 22), (4, 26), (5, 17), (6, 9), (7, 4))
DESIL_WEIGHTS = (12, 12, 11, 11, 10, 10, 9, 9, 8, 8)
#: (vaccine, age in days when given) — the national basic schedule (simplified).
IMUNISASI = (
    ("HB-0", 0),
    ("BCG", 30),
    ("Polio 1", 30),
    ("DPT-HB-Hib 1", 60),
    ("Polio 2", 60),
    ("DPT-HB-Hib 2", 90),
    ("Polio 3", 90),
    ("DPT-HB-Hib 3", 120),
    ("Polio 4", 120),
    ("IPV", 120),
    ("Campak-Rubela", 270),
    ("DPT-HB-Hib Lanjutan", 540),
    ("Campak-Rubela Lanjutan", 540),
)
PROGRAM_BANSOS = (
    (
        "PKH",
        "Program Keluarga Harapan",
        "Bantuan tunai bersyarat untuk keluarga miskin dengan "
        "ibu hamil, anak usia sekolah, lansia atau penyandang disabilitas.",
        3_000_000,
    ),
    (
        "BPNT",
        "Bantuan Pangan Non Tunai (Sembako)",
        "Bantuan pangan Rp200.000 per bulan melalui kartu keluarga sejahtera.",
        2_400_000,
    ),
    (
        "BLT",
        "Bantuan Langsung Tunai Dana Desa",
        "Bantuan tunai dari dana desa untuk keluarga miskin ekstrem.",
        900_000,
    ),
    (
        "PBI_JK",
        "Penerima Bantuan Iuran Jaminan Kesehatan",
        "Iuran JKN dibayar pemerintah (Rp42.000 per orang per bulan).",
        0,
    ),
)
SWASTA_SEKOLAH = ("Muhammadiyah", "IT Al-Hikmah", "PGRI", "Ma'arif NU", "Kristen", "Xaverius")
RUMAH_SAKIT_SWASTA = ("Mitra Husada", "Bunda", "Imanuel", "Urip Sumoharjo", "Advent", "Asy-Syifa")


@dataclass(slots=True)
class Person:
    nik: str
    no_kk: str
    nama: str
    perempuan: bool
    tempat_lahir: str
    tanggal_lahir: date
    agama: str
    status_perkawinan: str
    pekerjaan: str
    hubungan: str
    desa_kode: str
    alamat: str

    @property
    def umur(self) -> int:
        born = self.tanggal_lahir
        ref = REFERENCE_DATE
        return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))


@dataclass(slots=True)
class Family:
    no_kk: str
    desa_kode: str
    alamat: str
    tanggal_terbit: date
    members: list[Person] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GenerationReport:
    directory: Path
    generated: bool
    seconds: float
    residents: int
    families: int


# ------------------------------------------------------------------ cache on disk


def data_root() -> Path:
    """Where generated stores are cached: ``$JAMAJAMA_DATA_DIR`` or ``./var/data``."""
    return Path(os.environ.get("JAMAJAMA_DATA_DIR", Path("var") / "data"))


def world_key(seed: int, scale: float) -> str:
    return f"seed{seed}-scale{scale:g}-v{GENERATOR_VERSION}-faker{faker.VERSION}"


def ensure_world(seed: int, scale: float, root: Path | None = None) -> GenerationReport:
    """Return the directory of the five stores for (seed, scale), generating them if missing.

    Generation writes into a temporary sibling directory renamed into place at the end, so
    concurrent starts never see half-written files (the loser of a race discards its copy).
    """
    if scale <= 0 or scale > 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    root = root or data_root()
    target = root / world_key(seed, scale)
    if all((target / f"{name}.sqlite3").exists() for name in STORES):
        return GenerationReport(target, False, 0.0, 0, 0)
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=".gen-", dir=root))
    try:
        residents, families = generate(seed, scale, tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not target.exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return GenerationReport(target, True, time.perf_counter() - started, residents, families)


# ------------------------------------------------------------------ the world


def generate(seed: int, scale: float, out_dir: Path) -> tuple[int, int]:
    """Generate every store into `out_dir`; returns (residents, families)."""
    world = _World(seed, scale)
    world.build()
    world.write(out_dir)
    return len(world.people), len(world.families)


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


class _World:
    def __init__(self, seed: int, scale: float) -> None:
        self.rng = random.Random(seed)
        self.fake = faker.Faker("id_ID")
        self.fake.seed_instance(seed)
        self.scale = scale
        self.regions = regions()
        self.kecamatan_of: dict[str, list[Region]] = defaultdict(list)
        self.desa_of: dict[str, list[Region]] = defaultdict(list)
        for r in self.regions:
            if r.tingkat == KECAMATAN:
                self.kecamatan_of[r.kode[:5]].append(r)
            elif r.tingkat == DESA_KELURAHAN:
                self.desa_of[r.kode[:5]].append(r)
                self.desa_of[r.kode[:8]].append(r)
        self.names = {r.kode: r.nama for r in self.regions}
        self.people: list[Person] = []
        self.families: list[Family] = []
        self._nik_serial: Counter[str] = Counter()
        self._kk_serial: Counter[str] = Counter()
        self.faskes: list[tuple[str, str, str, str, str]] = []  # kode, nama, jenis, desa, alamat
        self.fktp_of: dict[str, list[str]] = defaultdict(list)  # kecamatan -> first-level codes
        self.puskesmas_of: dict[str, str] = {}
        self.peserta: list[tuple[str, str, str, int, str, str]] = []
        self.imunisasi: list[tuple[str, str, str, str]] = []
        self.sekolah: list[tuple[str, str, str, str, str, str]] = []
        self.siswa: list[tuple[str, str, str, int]] = []
        self.desil: dict[str, int] = {}
        self.penerima: list[tuple[str, str, int, int, int]] = []

    def build(self) -> None:
        for kab in (r for r in self.regions if r.tingkat == KABUPATEN_KOTA):
            target = round(population()[kab.kode].jumlah * self.scale)
            placed = 0
            while placed < target:
                desa = self.rng.choice(self.desa_of[kab.kode])
                size = min(target - placed, int(_weighted(self.rng, _SIZES)))
                self.families.append(self._family(kab, desa, size))
                placed += size
        self.people = [p for f in self.families for p in f.members]
        self._sosial()
        self._kesehatan()
        self._pendidikan()

    # -------------------------------------------------------------- kependudukan

    def _birth(self, umur: int) -> date:
        start = date(REFERENCE_DATE.year - umur - 1, REFERENCE_DATE.month, 1) + timedelta(days=1)
        return start + timedelta(days=self.rng.randrange(365))

    def _person(
        self,
        fam: Family,
        kab: Region,
        *,
        perempuan: bool,
        umur: int,
        hubungan: str,
        status: str,
        agama: str,
    ) -> Person:
        rng, fake = self.rng, self.fake
        born = self._birth(umur)
        kec_digits = fam.desa_kode[:8].replace(".", "")
        date_part = ids.format_date6(born, add_to_day=40 if perempuan else 0)
        self._nik_serial[kec_digits + date_part] += 1
        nik = ids.make_nik(kec_digits, born, perempuan, self._nik_serial[kec_digits + date_part])
        if perempuan:
            nama = f"{fake.first_name_female()} {fake.last_name_female()}"
        else:
            nama = f"{fake.first_name_male()} {fake.last_name_male()}"
        roll = rng.random()
        if roll < 0.75:
            tempat = short_name(kab.nama)
        elif roll < 0.85:
            tempat = self.names[fam.desa_kode[:8]]
        else:
            tempat = fake.city()
        if umur < 5:
            pekerjaan = "Belum/Tidak Bekerja"
        elif umur <= 18 or (umur <= 22 and rng.random() < 0.4):
            pekerjaan = "Pelajar/Mahasiswa"
        elif umur >= 58 and rng.random() < 0.25:
            pekerjaan = "Pensiunan"
        else:
            pekerjaan = _weighted(rng, PEKERJAAN_PEREMPUAN if perempuan else PEKERJAAN_LAKI)
        return Person(
            nik, fam.no_kk, nama, perempuan, tempat, born, agama, status, pekerjaan, hubungan,
            fam.desa_kode, fam.alamat,
        )  # fmt: skip

    def _family(self, kab: Region, desa: Region, size: int) -> Family:
        rng = self.rng
        alamat = (
            f"{self.fake.street_address()}, RT {rng.randint(1, 15):03d}/RW {rng.randint(1, 6):03d}"
        )
        fam = Family("", desa.kode, alamat, REFERENCE_DATE)
        agama = _weighted(rng, AGAMA)
        head_female = rng.random() < (0.4 if size == 1 else 0.08)
        head_age = rng.randint(22, 78)
        # (perempuan, umur, hubungan, status)
        plan: list[tuple[bool, int, str, str]] = []
        if size == 1:
            status = "BELUM_KAWIN" if head_age < 35 else rng.choice(("CERAI_MATI", "CERAI_HIDUP"))
            plan.append((head_female, head_age, "KEPALA_KELUARGA", status))
        elif head_female:
            plan.append(
                (True, head_age, "KEPALA_KELUARGA", rng.choice(("CERAI_MATI", "CERAI_HIDUP")))
            )
        else:
            plan.append((False, head_age, "KEPALA_KELUARGA", "KAWIN"))
            plan.append((True, max(18, head_age + rng.randint(-8, 3)), "ISTRI", "KAWIN"))
        if len(plan) < size and head_age < 50 and rng.random() < 0.25:
            plan.append((rng.random() < 0.6, min(95, head_age + rng.randint(22, 32)),
                         "ORANG_TUA", "CERAI_MATI"))  # fmt: skip
        oldest_child = max(0, min(head_age - 18, 35))
        while len(plan) < size:
            plan.append((rng.random() < 0.49, rng.randint(0, oldest_child), "ANAK", "BELUM_KAWIN"))
        members = [
            self._person(fam, kab, perempuan=f, umur=u, hubungan=h, status=s, agama=agama)
            for f, u, h, s in plan
        ]
        youngest = max(p.tanggal_lahir for p in members)
        issued = date(2008, 1, 1) + timedelta(days=rng.randrange(6300))
        if issued <= youngest:
            issued = youngest + timedelta(days=rng.randint(7, 90))
        issued = min(issued, REFERENCE_DATE)
        kec_digits = desa.kode[:8].replace(".", "")
        key = kec_digits + ids.format_date6(issued)
        self._kk_serial[key] += 1
        fam.no_kk = ids.make_no_kk(kec_digits, issued, self._kk_serial[key])
        fam.tanggal_terbit = issued
        for p in members:
            p.no_kk = fam.no_kk
        fam.members = members
        return fam

    # -------------------------------------------------------------- sosial

    def _sosial(self) -> None:
        rng = self.rng
        for fam in self.families:
            desil = rng.choices(range(1, 11), DESIL_WEIGHTS)[0]
            self.desil[fam.no_kk] = desil
            vulnerable = any(p.umur < 18 or p.umur >= 60 for p in fam.members)
            chances = {
                "PKH": 0.7 if desil <= 3 and vulnerable else 0.0,
                "BPNT": 0.75 if desil <= 4 else 0.0,
                "BLT": 0.25 if desil <= 5 else 0.0,
                "PBI_JK": 0.9 if desil <= 5 else (0.2 if desil == 6 else 0.0),
            }
            for kode, _, _, nominal in PROGRAM_BANSOS:
                if rng.random() < chances[kode]:
                    amount = nominal or 42_000 * 12 * len(fam.members)
                    aktif = int(rng.random() < 0.95)
                    self.penerima.append((fam.no_kk, kode, REFERENCE_DATE.year, amount, aktif))

    # -------------------------------------------------------------- kesehatan

    def _kesehatan(self) -> None:
        rng, fake = self.rng, self.fake
        serial: Counter[str] = Counter()

        def add(letter: str, kec: Region, nama: str, jenis: str) -> str:
            serial[letter + kec.kode] += 1
            kode = f"{letter}{kec.digits}{serial[letter + kec.kode]:02d}"
            desa = rng.choice(self.desa_of[kec.kode])
            self.faskes.append((kode, nama, jenis, desa.kode, fake.street_address()))
            return kode

        for kab in (r for r in self.regions if r.tingkat == KABUPATEN_KOTA):
            kecs = self.kecamatan_of[kab.kode]
            for kec in kecs:
                kode = add("P", kec, f"Puskesmas {kec.nama}", "PUSKESMAS")
                self.puskesmas_of[kec.kode] = kode
                self.fktp_of[kec.kode].append(kode)
                for _ in range(rng.choices((0, 1, 2, 3), (4, 3, 2, 1))[0]):
                    nama = f"Klinik Pratama {fake.last_name()} Medika"
                    self.fktp_of[kec.kode].append(add("K", kec, nama, "KLINIK"))
            add("R", rng.choice(kecs), f"RSUD {short_name(kab.nama)}", "RUMAH_SAKIT")
            for _ in range(rng.randint(0, 3)):
                nama = f"RS {rng.choice(RUMAH_SAKIT_SWASTA)} {short_name(kab.nama)}"
                add("R", rng.choice(kecs), nama, "RUMAH_SAKIT")

        pbi_families = {kk for kk, kode, *_ in self.penerima if kode == "PBI_JK"}
        card = 0
        for fam in self.families:
            head = fam.members[0]
            if fam.no_kk in pbi_families:
                segmen, p_active = "PBI", 0.98
            elif any(p.pekerjaan in PEKERJAAN_PPU for p in fam.members):
                segmen, p_active = "PPU", 0.99
            elif head.pekerjaan == "Pensiunan":
                segmen, p_active = "BP", 0.97
            elif rng.random() < 0.75:
                segmen, p_active = "PBPU", 0.7
            else:
                continue
            aktif = int(rng.random() < p_active)
            kec_kode = fam.desa_kode[:8]
            fktp = rng.choice(self.fktp_of[kec_kode])
            for p in fam.members:
                card += 1
                self.peserta.append((p.nik, f"0001{card:09d}", segmen, aktif, fktp, p.desa_kode))
                if p.umur < 6:
                    self._imunisasi(p, self.puskesmas_of[kec_kode])

    def _imunisasi(self, p: Person, puskesmas: str) -> None:
        for vaksin, days in IMUNISASI:
            given = p.tanggal_lahir + timedelta(days=days + self.rng.randrange(14))
            if given <= REFERENCE_DATE and self.rng.random() < 0.92:
                self.imunisasi.append((p.nik, vaksin, given.isoformat(), puskesmas))

    # -------------------------------------------------------------- pendidikan

    def _pendidikan(self) -> None:
        rng, fake = self.rng, self.fake
        # pupils by where they go to school: SD/SMP in their kecamatan, SMA/SMK in the regency
        pupils: dict[tuple[str, str], list[tuple[Person, int]]] = defaultdict(list)
        for p in self.people:
            u = p.umur
            if not 7 <= u <= 18 or rng.random() >= 0.95:
                continue
            if rng.random() < 0.01:
                pupils[(p.desa_kode[:5], "SLB")].append((p, min(12, u - 6)))
            elif u <= 12:
                pupils[(p.desa_kode[:8], "SD")].append((p, u - 6))
            elif u <= 15:
                pupils[(p.desa_kode[:8], "SMP")].append((p, u - 6))
            else:
                jenjang = "SMA" if rng.random() < 0.6 else "SMK"
                pupils[(p.desa_kode[:5], jenjang)].append((p, min(12, u - 6)))
        per_school = {"SD": 120, "SMP": 180, "SMA": 250, "SMK": 250, "SLB": 10_000}
        npsn = 10_800_000
        nisn_serial = 0
        for r in self.regions:
            levels: tuple[str, ...]
            if r.tingkat == KECAMATAN:
                levels = ("SD", "SMP")
            elif r.tingkat == KABUPATEN_KOTA:
                levels = ("SMA", "SMK", "SLB")
            else:
                continue
            for jenjang in levels:
                group = pupils.get((r.kode, jenjang), [])
                count = max(1, -(-len(group) // per_school[jenjang]))
                schools = []
                for n in range(1, count + 1):
                    npsn += 1
                    negeri = rng.random() < 0.8
                    place = short_name(r.nama)
                    nama = (
                        f"{jenjang} Negeri {n} {place}"
                        if negeri
                        else f"{jenjang} {rng.choice(SWASTA_SEKOLAH)} {place}"
                    )
                    desa = rng.choice(self.desa_of[r.kode])
                    status = "NEGERI" if negeri else "SWASTA"
                    self.sekolah.append(
                        (f"{npsn:08d}", nama, jenjang, status, desa.kode, fake.street_address())
                    )
                    schools.append(f"{npsn:08d}")
                for i, (p, kelas) in enumerate(group):
                    nisn_serial += 1
                    nisn = f"{p.tanggal_lahir.year % 1000:03d}{nisn_serial:07d}"
                    self.siswa.append((p.nik, nisn, schools[i % len(schools)], kelas))

    # -------------------------------------------------------------- writing the stores

    def write(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_wilayah(out_dir / "wilayah.sqlite3", self.regions)
        _write_kependudukan(out_dir / "kependudukan.sqlite3", self)
        _write_kesehatan(out_dir / "kesehatan.sqlite3", self)
        _write_pendidikan(out_dir / "pendidikan.sqlite3", self)
        _write_sosial(out_dir / "sosial.sqlite3", self)


_SIZES = tuple((str(n), w) for n, w in FAMILY_SIZES)


def _open_for_writing(path: Path, ddl: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.executescript(ddl)
    return conn


def _rollup(pairs: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """Count (desa kode, category) pairs at every level: desa, kecamatan, regency, province."""
    counts: Counter[tuple[str, str]] = Counter()
    for desa, category in pairs:
        for kode in ancestors_and_self(desa):
            counts[(kode, category)] += 1
    return counts


def _write_wilayah(path: Path, rs: Sequence[Region]) -> None:
    conn = _open_for_writing(
        path,
        """
        CREATE TABLE wilayah (kode TEXT PRIMARY KEY, nama TEXT NOT NULL, tingkat TEXT NOT NULL,
                              luas REAL, parent_kode TEXT);
        CREATE INDEX wilayah_parent ON wilayah (parent_kode, kode);
        CREATE INDEX wilayah_tingkat ON wilayah (tingkat, kode);
        """,
    )
    with conn:
        conn.executemany(
            "INSERT INTO wilayah VALUES (?, ?, ?, ?, ?)",
            [(r.kode, r.nama, r.tingkat, r.luas, r.parent_kode) for r in rs],
        )
    conn.close()


def _all_region_codes() -> list[str]:
    return [r.kode for r in regions()]


def _write_kependudukan(path: Path, w: _World) -> None:
    conn = _open_for_writing(
        path,
        """
        CREATE TABLE penduduk (
            nik TEXT PRIMARY KEY, no_kk TEXT NOT NULL, nama TEXT NOT NULL,
            jenis_kelamin TEXT NOT NULL, tempat_lahir TEXT NOT NULL, tanggal_lahir TEXT NOT NULL,
            agama TEXT NOT NULL, status_perkawinan TEXT NOT NULL, pekerjaan TEXT NOT NULL,
            hubungan TEXT NOT NULL, desa_kode TEXT NOT NULL, alamat TEXT NOT NULL, urutan INTEGER
        );
        CREATE INDEX penduduk_kk ON penduduk (no_kk, urutan);
        CREATE INDEX penduduk_desa ON penduduk (desa_kode, nik);
        CREATE TABLE keluarga (
            no_kk TEXT PRIMARY KEY, nik_kepala TEXT NOT NULL, desa_kode TEXT NOT NULL,
            alamat TEXT NOT NULL, tanggal_terbit TEXT NOT NULL
        );
        CREATE TABLE agregat (
            kode TEXT PRIMARY KEY, jumlah_penduduk INTEGER NOT NULL, laki_laki INTEGER NOT NULL,
            perempuan INTEGER NOT NULL, jumlah_keluarga INTEGER NOT NULL
        );
        """,
    )
    with conn:
        conn.executemany(
            "INSERT INTO penduduk VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (p.nik, p.no_kk, p.nama, "PEREMPUAN" if p.perempuan else "LAKI_LAKI",
                 p.tempat_lahir, p.tanggal_lahir.isoformat(), p.agama, p.status_perkawinan,
                 p.pekerjaan, p.hubungan, p.desa_kode, p.alamat, i)
                for f in w.families
                for i, p in enumerate(f.members)
            ),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO keluarga VALUES (?, ?, ?, ?, ?)",
            (
                (f.no_kk, f.members[0].nik, f.desa_kode, f.alamat, f.tanggal_terbit.isoformat())
                for f in w.families
            ),
        )
        people = _rollup((p.desa_kode, "P" if p.perempuan else "L") for p in w.people)
        fams = _rollup((f.desa_kode, "") for f in w.families)
        conn.executemany(
            "INSERT INTO agregat VALUES (?, ?, ?, ?, ?)",
            (
                (k, people[(k, "L")] + people[(k, "P")], people[(k, "L")], people[(k, "P")],
                 fams[(k, "")])
                for k in _all_region_codes()
            ),
        )  # fmt: skip
    conn.close()


def _write_kesehatan(path: Path, w: _World) -> None:
    conn = _open_for_writing(
        path,
        """
        CREATE TABLE fasilitas (kode TEXT PRIMARY KEY, nama TEXT NOT NULL, jenis TEXT NOT NULL,
                                desa_kode TEXT NOT NULL, alamat TEXT NOT NULL);
        CREATE INDEX fasilitas_desa ON fasilitas (desa_kode, kode);
        CREATE TABLE peserta (nik TEXT PRIMARY KEY, nomor_kartu TEXT NOT NULL UNIQUE,
                              segmen TEXT NOT NULL, aktif INTEGER NOT NULL,
                              faskes_kode TEXT NOT NULL, desa_kode TEXT NOT NULL);
        CREATE TABLE imunisasi (nik TEXT NOT NULL, vaksin TEXT NOT NULL, tanggal TEXT NOT NULL,
                                faskes_kode TEXT NOT NULL);
        CREATE INDEX imunisasi_nik ON imunisasi (nik, tanggal);
        CREATE TABLE agregat (kode TEXT PRIMARY KEY, jumlah_peserta INTEGER NOT NULL,
                              jumlah_peserta_aktif INTEGER NOT NULL,
                              jumlah_fasilitas INTEGER NOT NULL);
        """,
    )
    with conn:
        conn.executemany("INSERT INTO fasilitas VALUES (?, ?, ?, ?, ?)", w.faskes)
        conn.executemany("INSERT INTO peserta VALUES (?, ?, ?, ?, ?, ?)", w.peserta)
        conn.executemany("INSERT INTO imunisasi VALUES (?, ?, ?, ?)", w.imunisasi)
        peserta = _rollup((desa, str(aktif)) for _, _, _, aktif, _, desa in w.peserta)
        faskes = _rollup((desa, "") for _, _, _, desa, _ in w.faskes)
        conn.executemany(
            "INSERT INTO agregat VALUES (?, ?, ?, ?)",
            (
                (k, peserta[(k, "0")] + peserta[(k, "1")], peserta[(k, "1")], faskes[(k, "")])
                for k in _all_region_codes()
            ),
        )
    conn.close()


def _write_pendidikan(path: Path, w: _World) -> None:
    conn = _open_for_writing(
        path,
        """
        CREATE TABLE sekolah (npsn TEXT PRIMARY KEY, nama TEXT NOT NULL, jenjang TEXT NOT NULL,
                              status TEXT NOT NULL, desa_kode TEXT NOT NULL, alamat TEXT NOT NULL);
        CREATE INDEX sekolah_desa ON sekolah (desa_kode, npsn);
        CREATE TABLE siswa (nik TEXT PRIMARY KEY, nisn TEXT NOT NULL UNIQUE, npsn TEXT NOT NULL,
                            kelas INTEGER NOT NULL);
        CREATE INDEX siswa_npsn ON siswa (npsn, nik);
        CREATE TABLE agregat (kode TEXT NOT NULL, jenjang TEXT NOT NULL,
                              jumlah_sekolah INTEGER NOT NULL, PRIMARY KEY (kode, jenjang));
        """,
    )
    with conn:
        conn.executemany("INSERT INTO sekolah VALUES (?, ?, ?, ?, ?, ?)", w.sekolah)
        conn.executemany("INSERT INTO siswa VALUES (?, ?, ?, ?)", w.siswa)
        counts = _rollup((desa, jenjang) for _, _, jenjang, _, desa, _ in w.sekolah)
        counts.update(_rollup((desa, "") for _, _, _, _, desa, _ in w.sekolah))
        conn.executemany(
            "INSERT INTO agregat VALUES (?, ?, ?)",
            (
                (k, j, counts[(k, j)])
                for k in _all_region_codes()
                for j in ("", "SD", "SMP", "SMA", "SMK", "SLB")
            ),
        )
    conn.close()


def _write_sosial(path: Path, w: _World) -> None:
    conn = _open_for_writing(
        path,
        """
        CREATE TABLE program (kode TEXT PRIMARY KEY, nama TEXT NOT NULL, deskripsi TEXT NOT NULL);
        CREATE TABLE keluarga (no_kk TEXT PRIMARY KEY, desa_kode TEXT NOT NULL,
                               desil INTEGER NOT NULL);
        CREATE TABLE penerima (no_kk TEXT NOT NULL, program TEXT NOT NULL, tahun INTEGER NOT NULL,
                               nominal INTEGER NOT NULL, aktif INTEGER NOT NULL,
                               PRIMARY KEY (no_kk, program, tahun));
        CREATE TABLE agregat (kode TEXT NOT NULL, program TEXT NOT NULL,
                              jumlah_keluarga INTEGER NOT NULL, PRIMARY KEY (kode, program));
        """,
    )
    desa_of_kk = {f.no_kk: f.desa_kode for f in w.families}
    with conn:
        conn.executemany("INSERT INTO program VALUES (?, ?, ?)", [p[:3] for p in PROGRAM_BANSOS])
        conn.executemany(
            "INSERT INTO keluarga VALUES (?, ?, ?)",
            ((f.no_kk, f.desa_kode, w.desil[f.no_kk]) for f in w.families),
        )
        conn.executemany("INSERT INTO penerima VALUES (?, ?, ?, ?, ?)", w.penerima)
        active = [(kk, program) for kk, program, _, _, aktif in w.penerima if aktif]
        counts = _rollup((desa_of_kk[kk], program) for kk, program in active)
        counts.update(_rollup((desa_of_kk[kk], "") for kk in sorted({kk for kk, _ in active})))
        conn.executemany(
            "INSERT INTO agregat VALUES (?, ?, ?)",
            (
                (k, p, counts[(k, p)])
                for k in _all_region_codes()
                for p in ("", *(row[0] for row in PROGRAM_BANSOS))
            ),
        )
    conn.close()
