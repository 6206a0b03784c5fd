"""No unauthorized value ever appears in a response: generated operations x principals (hypothesis).

Operations are drawn from the OPD API schema (random fields, aliases, inline and named fragments,
nesting up to three levels, real identifiers as arguments) and run through the gateway against the
five real subgraphs for a principal drawn from anonymous and the demo applications with no, an
approved or an unapproved purpose. The oracle is independent of gateway/auth: it reads each
field's directives from the supergraph SDL text with a regular expression and applies the rules of
docs/security.md. Checked for every response:
- every non-null value sits at a field the principal may see;
- every field it may not see is null and named by an UNAUTHORIZED_FIELD_OR_TYPE error (filter
  mode), or the response has no data at all (reject mode);
- no identifier (NIK, No. KK, NISN, JKN card number) appears anywhere (data, keys, cursors, error
  messages and extensions) unless the principal has its reveal rights (the reveal scope and an
  approved purpose); identifier fields hold the caller's pseudonym instead;
- a lookup by identifier (``penduduk(nik:)``, ``keluarga(noKk:)``) is visible only with the
  reveal rights (issue 12);
- every cursor is sealed (``c1.``), and a generated ``after`` argument (forged from a NIK, sealed
  for another application, or for another list) never reaches a subgraph.
Generated positions include identifiers where a subgraph's error message echoes them.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway.auth.principal import Principal
from gateway.supergraph import load_supergraph
from tests.auth.harness import SUPERGRAPH, OpdWorld, PrincipalFactory, SecuredFactory

pytestmark = pytest.mark.anyio

_TYPE = re.compile(r"^type (\w+)")
_FIELD = re.compile(r"^\s+(\w+)(\(.*?\))?: [^@]*(.*)$")
_SCOPES = re.compile(r'@requiresScopes\(scopes: \[\["([^"]+)"\]\]\)')


@dataclass(frozen=True)
class Rule:
    authenticated: bool = False
    scope: str | None = None
    personal: bool = False


def read_rules() -> dict[str, Rule]:
    """coordinate -> what it needs, read from the supergraph text (not from gateway.auth)."""
    rules: dict[str, Rule] = {}
    current = None
    for line in SUPERGRAPH.read_text().splitlines():
        if match := _TYPE.match(line):
            current = match.group(1)
        elif line.startswith("}"):
            current = None
        elif current and (match := _FIELD.match(line)):
            directives = match.group(3)
            scope = _SCOPES.search(directives)
            rules[f"{current}.{match.group(1)}"] = Rule(
                authenticated="@authenticated" in directives,
                scope=scope.group(1) if scope else None,
                personal='@policy(policies: [["data_pribadi"]])' in directives,
            )
    return rules


RULES = read_rules()


#: lookups by identifier (docs/security.md): the identifier's reveal scope and an approved purpose
LOOKUPS = {"Query.penduduk": "kependudukan:nik", "Query.keluarga": "kependudukan:nik"}
#: identifier kind -> (its reveal scope, its pseudonym prefix)
REVEAL = {
    "nik": ("kependudukan:nik", "NIK-"),
    "kk": ("kependudukan:nik", "NOKK-"),
    "nisn": ("pendidikan:nisn", "NISN-"),
    "jkn": ("kesehatan:jkn", "NOMORKARTUJKN-"),
}
IDENTIFIER_FIELDS = {
    "Penduduk.nik": "nik",
    "Keluarga.noKk": "kk",
    "PesertaDidik.nisn": "nisn",
    "KepesertaanJkn.nomorKartu": "jkn",
}


def revealed(kind: str, principal: Principal) -> bool:
    return REVEAL[kind][0] in principal.scopes and principal.purpose_approved


def visible(coordinate: str, principal: Principal) -> bool:
    if coordinate in LOOKUPS and not (
        LOOKUPS[coordinate] in principal.scopes and principal.purpose_approved
    ):
        return False
    rule = RULES.get(coordinate, Rule())
    if (rule.authenticated or rule.scope or rule.personal) and not principal.authenticated:
        return False
    if rule.scope and rule.scope not in principal.scopes:
        return False
    return not (rule.personal and not principal.purpose_approved)


@dataclass
class Node:
    """One selected field: its response key, coordinate and sub-selection."""

    key: str
    coordinate: str
    children: list[Node]


@dataclass
class Identifiers:
    niks: list[str]
    kks: list[str]
    npsns: list[str]
    faskes: list[str]
    #: ``after`` values a caller must never get past the gateway: forged, foreign, other list
    cursors: list[str]
    #: every identifier of each kind in the world (the leak oracle)
    known: dict[str, set[str]]


def identifiers(world: OpdWorld) -> Identifiers:
    def column(db: str, sql: str) -> list[str]:
        conn = sqlite3.connect(world.directory / f"{db}.sqlite3")
        try:
            return [r[0] for r in conn.execute(sql)]
        finally:
            conn.close()

    niks = column("kependudukan", "SELECT nik FROM penduduk LIMIT 3")
    forged = base64.urlsafe_b64encode(f"k:{niks[0]}".encode()).decode()
    return Identifiers(
        niks=niks + column("pendidikan", "SELECT nik FROM siswa LIMIT 2"),
        kks=column("sosial", "SELECT no_kk FROM keluarga LIMIT 2"),
        npsns=column("pendidikan", "SELECT npsn FROM sekolah LIMIT 2"),
        faskes=column("kesehatan", "SELECT kode FROM fasilitas LIMIT 2"),
        cursors=[forged, "r:1", forged + "x"],
        known={
            "nik": set(column("kependudukan", "SELECT nik FROM penduduk")),
            "kk": set(column("kependudukan", "SELECT no_kk FROM keluarga")),
            "nisn": set(column("pendidikan", "SELECT nisn FROM siswa")),
            "jkn": set(column("kesehatan", "SELECT nomor_kartu FROM peserta")),
        },
    )


def arguments(coordinate: str, draw: Any) -> str:
    """The argument text for a field; identifiers are placeholders filled in per run."""
    fixed = {
        "Query.penduduk": lambda: f'(nik: "@nik{draw(st.integers(0, 4))}")',
        "Query.keluarga": lambda: f'(noKk: "@kk{draw(st.integers(0, 1))}")',
        "Query.sekolah": lambda: f'(npsn: "@npsn{draw(st.integers(0, 1))}")',
        "Query.fasilitasKesehatan": lambda: f'(kode: "@faskes{draw(st.integers(0, 1))}")',
        "Query.wilayah": lambda: '(kode: "18.71.01")',
        # a NIK where a region code belongs: the subgraph's error message echoes it
        "Query.daftarPenduduk": lambda: (
            f'(wilayahKode: "{draw(st.sampled_from(["18.71.01", "@nik0"]))}", first: 2)'
        ),
    }
    return fixed[coordinate]() if coordinate in fixed else ""


def paging(args: str, draw: Any) -> str:
    """``first: 2``, sometimes with an ``after`` the gateway must refuse (placeholder)."""
    cursor = draw(st.sampled_from(["", "", "@cursor0", "@cursor1", "@cursor2", "@cursor3"]))
    after = f', after: "{cursor}"' if cursor else ""
    return f"({args[1:-1]}{after})" if args else f"(first: 2{after})"


def fill(query: str, ids: Identifiers, foreign: str) -> str:
    values = {
        "nik": ids.niks,
        "kk": ids.kks,
        "npsn": ids.npsns,
        "faskes": ids.faskes,
        "cursor": [*ids.cursors, foreign],
    }
    return re.sub(
        r"@(nik|kk|npsn|faskes|cursor)(\d)",
        lambda m: values[m.group(1)][int(m.group(2))],
        query,
    )


def selection(
    draw: Any,
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    fragments: dict[str, str],
    depth: int,
) -> tuple[str, list[Node]]:
    names = sorted(n for n in parent.fields if not n.startswith("_"))
    if parent.name == "Query":
        names = [n for n in names if n not in ("kabupatenKota", "wilayahList")] or names
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    parts: list[str] = []
    nodes: list[Node] = []
    for name in chosen:
        gql_field = parent.fields[name]
        coordinate = f"{parent.name}.{name}"
        args = arguments(coordinate, draw)
        if any(a.type.__class__.__name__ == "GraphQLNonNull" and a.default_value is None
               for a in gql_field.args.values()) and not args:  # fmt: skip
            continue
        if "after" in gql_field.args:
            args = paging(args, draw)
        key = draw(st.sampled_from([name, f"{name}Alias"]))
        head = f"{key}: {name}{args}" if key != name else f"{name}{args}"
        named = get_named_type(gql_field.type)
        children: list[Node] = []
        if isinstance(named, GraphQLObjectType):
            if depth >= 3:
                text = f"{head} {{ __typename }}"
            else:
                inner, children = selection(draw, schema, named, fragments, depth + 1)
                text = f"{head} {{ {inner} }}"
        elif hasattr(named, "fields") or hasattr(named, "types"):
            text = f"{head} {{ __typename }}"
        else:
            text = head
        wrap = draw(st.sampled_from(["plain", "inline", "named"]))
        if wrap == "inline":
            text = f"... on {parent.name} {{ {text} }}"
        elif wrap == "named" and parent.name != "Query":
            fragment = f"F{len(fragments)}"
            fragments[fragment] = f"fragment {fragment} on {parent.name} {{ {text} }}"
            text = f"...{fragment}"
        parts.append(text)
        nodes.append(Node(key, coordinate, children))
    if not parts:
        parts.append("__typename")
    return " ".join(parts), nodes


@st.composite
def operations(draw: Any, schema: GraphQLSchema) -> tuple[str, list[Node]]:
    fragments: dict[str, str] = {}
    query_type = schema.query_type
    assert query_type is not None
    text, nodes = selection(draw, schema, query_type, fragments, 1)
    return " ".join([f"query Generated {{ {text} }}", *fragments.values()]), nodes


CALLERS = [
    (None, None),
    ("dasbor-gubernur", None),
    ("developer", "pengujian"),
    ("sehat-lampung", None),
    ("sehat-lampung", "pelayanan_kesehatan"),
    ("sehat-lampung", "penyaluran_bansos"),
    ("sibansos", "penyaluran_bansos"),
    ("sibansos", None),
]

_NUMBER = re.compile(r"(?<!\d)\d{10,16}(?!\d)")


def check_positions(value: Any, nodes: list[Node], principal: Principal) -> None:
    """Identifier fields (keys included) hold pseudonyms; cursors are sealed."""
    if isinstance(value, list):
        for item in value:
            check_positions(item, nodes, principal)
        return
    if not isinstance(value, dict):
        return
    for node in nodes:
        found = value.get(node.key)
        kind = IDENTIFIER_FIELDS.get(node.coordinate)
        if isinstance(found, str) and kind is not None and not revealed(kind, principal):
            assert found.startswith(REVEAL[kind][1]), f"{node.coordinate} not pseudonymised"
        if isinstance(found, str) and node.coordinate == "PageInfo.endCursor":
            assert found.startswith("c1."), "a subgraph cursor reached the client"
        if node.children:
            check_positions(found, node.children, principal)


def check(
    response: dict[str, Any],
    nodes: list[Node],
    principal: Principal,
    known: dict[str, set[str]],
    mode: str,
) -> None:
    errors = response.get("errors", [])
    refused_paths = {
        tuple(e["path"])
        for e in errors
        if e.get("extensions", {}).get("code") == "UNAUTHORIZED_FIELD_OR_TYPE"
    }
    numbers = set(_NUMBER.findall(repr(response)))
    for kind, values in known.items():
        if not revealed(kind, principal):
            assert not numbers & values, f"{kind} in the response of a caller without its rights"
    data = response.get("data")
    check_positions(data, nodes, principal)
    if mode == "reject" and refused_paths:
        assert data is None
        return

    def walk(value: Any, nodes: list[Node], path: tuple[str, ...]) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item, nodes, path)
            return
        if not isinstance(value, dict):
            return
        for node in nodes:
            here = (*path, node.key)
            if not visible(node.coordinate, principal):
                assert value.get(node.key) is None, f"{node.coordinate} visible at {here}"
                assert here in refused_paths, f"no error for {here}"
                continue
            if node.key in value and node.children:
                walk(value[node.key], node.children, here)

    walk(data, nodes, ())


@pytest.fixture
async def world(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> dict[str, Any]:
    """Gateways in both modes, the callers and the identifiers, shared by every example."""
    gateways = {mode: await secured(mode=mode) for mode in ("filter", "reject")}
    # a cursor sealed for another application (sibansos) and list (daftarPenduduk)
    sibansos = await principal("sibansos", "penyaluran_bansos")
    page = await gateways["filter"].run(
        '{ daftarPenduduk(wilayahKode: "18", first: 1) { pageInfo { endCursor } } }', sibansos
    )
    return {
        "gateways": gateways,
        "callers": [await principal(app, purpose) for app, purpose in CALLERS],
        "ids": identifiers(opd_world),
        "foreign": page["data"]["daftarPenduduk"]["pageInfo"]["endCursor"],
    }


SCHEMA = load_supergraph(SUPERGRAPH.read_text(), authorization_enforced=True).api_schema


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
@example(  # an error position: the subgraph's message echoes the NIK
    operation=(
        'query Generated { daftarPenduduk(wilayahKode: "@nik0", first: 2) { totalCount } }',
        [Node("daftarPenduduk", "Query.daftarPenduduk", [])],
    ),
    who=CALLERS.index(("sehat-lampung", "pelayanan_kesehatan")),
    mode="filter",
)
@example(  # a cursor position: a forged ``after``
    operation=(
        'query Generated { daftarPenduduk(wilayahKode: "18", first: 2, after: "@cursor0") '
        "{ pageInfo { endCursor } } }",
        [Node("daftarPenduduk", "Query.daftarPenduduk", [])],
    ),
    who=CALLERS.index(("sehat-lampung", "pelayanan_kesehatan")),
    mode="filter",
)
@example(  # key and cursor positions: pseudonymised keys, a sealed cursor
    operation=(
        'query Generated { daftarPenduduk(wilayahKode: "18", first: 2) '
        "{ nodes { nik keluarga { noKk } } pageInfo { endCursor } } }",
        [
            Node(
                "daftarPenduduk",
                "Query.daftarPenduduk",
                [
                    Node(
                        "nodes",
                        "PendudukConnection.nodes",
                        [
                            Node("nik", "Penduduk.nik", []),
                            Node(
                                "keluarga", "Penduduk.keluarga", [Node("noKk", "Keluarga.noKk", [])]
                            ),
                        ],
                    ),
                    Node(
                        "pageInfo",
                        "PendudukConnection.pageInfo",
                        [Node("endCursor", "PageInfo.endCursor", [])],
                    ),
                ],
            )
        ],
    ),
    who=CALLERS.index(("sehat-lampung", "pelayanan_kesehatan")),
    mode="filter",
)
@given(
    operation=operations(SCHEMA),
    who=st.integers(0, len(CALLERS) - 1),
    mode=st.sampled_from(["filter", "filter", "reject"]),
)
async def test_no_unauthorized_value_for_generated_operations(
    world: dict[str, Any], operation: tuple[str, list[Node]], who: int, mode: str
) -> None:
    ids: Identifiers = world["ids"]
    query, nodes = fill(operation[0], ids, world["foreign"]), operation[1]
    caller = world["callers"][who]
    gateway = world["gateways"][mode]
    gateway.transport.bodies.clear()
    response = await gateway.run(query, caller)
    failures = ("GRAPHQL_VALIDATION_FAILED", "INTERNAL_SERVER_ERROR")
    codes = [e.get("extensions", {}).get("code") for e in response.get("errors", [])]
    assert not set(codes) & set(failures), (query, response)
    check(response, nodes, caller, ids.known, mode)
    sent = json.dumps(gateway.transport.bodies)
    for cursor in [*ids.cursors, world["foreign"]]:
        assert cursor not in sent, "a cursor the gateway did not seal reached a subgraph"
