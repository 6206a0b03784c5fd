"""The data catalogue an SPLP publishes: each OPD, its subgraph, types and fields, personal data
and the scopes and policies that guard each field.

Built from the current supergraph through ``gateway.supergraph`` (the one reader of the join spec):
a field belongs to the subgraphs that resolve it; guards are the field's and its type's
``@authenticated``/``@requiresScopes``/``@policy``. A field is personal data when a guarding
policy is one of ``personal_data_policies`` or when it is an identifier of a person
(:data:`IDENTIFIER_FIELDS`). The HTML page is in Indonesian, like the SPLP it documents.
"""

from __future__ import annotations

import html
import re
import time
from functools import lru_cache
from typing import Any

from graphql import (
    ConstDirectiveNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    value_from_ast_untyped,
)

from gateway.registry.store import SubgraphVersion
from gateway.supergraph import Supergraph, load_supergraph

#: Fields that identify a person (NIK, No. KK, JKN card number, NISN): personal data wherever they
#: appear, even unguarded (an entity key cannot carry a policy). The one place this is listed until
#: the trust work's identifier declaration lands; then it is read from the supergraph instead.
IDENTIFIER_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("Penduduk", "nik"),
        ("Keluarga", "noKk"),
        ("KepesertaanJkn", "nomorKartu"),
        ("PesertaDidik", "nisn"),
    }
)


@lru_cache(maxsize=4)
def _load(sdl: str) -> Supergraph:
    """The supergraph model, kept for the few latest versions (loading one takes ~70 ms)."""
    return load_supergraph(sdl, authorization_enforced=True)


def _args(d: ConstDirectiveNode) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()}


def _directives(element: Any) -> list[ConstDirectiveNode]:
    nodes = [element.ast_node, *(getattr(element, "extension_ast_nodes", None) or ())]
    return [d for node in nodes if node is not None for d in node.directives or ()]


def _guards(directives: list[ConstDirectiveNode]) -> dict[str, Any]:
    guards: dict[str, Any] = {"authenticated": False, "scopes": [], "policies": []}
    for d in directives:
        name = d.name.value
        if name == "authenticated":
            guards["authenticated"] = True
        elif name == "requiresScopes":
            guards["scopes"] = _args(d).get("scopes") or []
        elif name == "policy":
            guards["policies"] = _args(d).get("policies") or []
    return guards


def build_catalogue(
    supergraph_sdl: str,
    subgraphs: dict[str, SubgraphVersion],
    personal_data_policies: list[str],
) -> dict[str, Any]:
    """The catalogue as JSON-ready data: ``{"opds": [{name, url, published_by, types: [...]}]}``.

    Only what the API schema shows is listed (``@inaccessible`` types and fields are not).
    """
    supergraph = _load(supergraph_sdl)
    personal = set(personal_data_policies)
    per_graph: dict[str, dict[str, dict[str, Any]]] = {}
    for type_name, api_type in supergraph.api_schema.type_map.items():
        if type_name.startswith("__") or not isinstance(
            api_type, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        full_type = supergraph.schema.type_map[type_name]
        assert isinstance(full_type, GraphQLObjectType | GraphQLInterfaceType)
        type_guards = _guards(_directives(full_type))
        for field_name, api_field in api_type.fields.items():
            guards = _guards(_directives(full_type.fields[field_name]))
            for key in ("scopes", "policies"):
                guards[key] = guards[key] or type_guards[key]
            guards["authenticated"] = guards["authenticated"] or type_guards["authenticated"]
            policy_names = {p for group in guards["policies"] for p in group}
            identifier = (type_name, field_name) in IDENTIFIER_FIELDS
            entry = {
                "name": field_name,
                "type": str(api_field.type),
                "description": api_field.description,
                "personal_data": identifier or bool(policy_names & personal),
                "identifier": identifier,
                **guards,
            }
            resolving = supergraph.graphs_of_field(type_name, field_name)
            graphs = [g for g, f in resolving.items() if not f.external] or list(
                supergraph.graphs_of_type(type_name)
            )
            for graph in graphs:
                _bucket(per_graph, graph, api_type)["fields"].append(entry)
    opds = []
    for name in sorted(set(per_graph) | set(subgraphs)):
        version = subgraphs.get(name)
        opds.append(
            {
                "name": name,
                "url": version.url if version else None,
                "published_by": version.published_by if version else None,
                "published_at": version.published_at if version else None,
                "types": sorted(per_graph.get(name, {}).values(), key=lambda t: t["name"]),
            }
        )
    return {"opds": opds}


def _bucket(
    per_graph: dict[str, dict[str, dict[str, Any]]], graph: str, api_type: GraphQLNamedType
) -> dict[str, Any]:
    return per_graph.setdefault(graph, {}).setdefault(
        api_type.name, {"name": api_type.name, "description": api_type.description, "fields": []}
    )


_CODE = re.compile(r"`([^`]+)`")


def render_description(text: str | None) -> str:
    """A schema description as HTML: escaped, `code` spans, blank lines between paragraphs."""
    if not text:
        return ""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + _CODE.sub(r"<code>\1</code>", html.escape(p, quote=False)) + "</p>"
        for p in paragraphs
    )


def _date(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch)) if epoch else "-"


def _alternatives(groups: list[list[str]]) -> str:
    return " atau ".join(" dan ".join(group) for group in groups)


def _plain_anchors(catalogue: dict[str, Any]) -> dict[str, str]:
    """``Type.field`` -> the OPD whose row gets that anchor: of the OPDs listing the field, the
    one listing the most fields of the type (ties: the first by name)."""
    listed: dict[str, list[tuple[int, str]]] = {}
    for opd in catalogue["opds"]:
        for t in opd["types"]:
            for f in t["fields"]:
                listed.setdefault(f"{t['name']}.{f['name']}", []).append(
                    (-len(t["fields"]), opd["name"])
                )
    return {anchor: min(candidates)[1] for anchor, candidates in listed.items()}


def render_catalogue_html(catalogue: dict[str, Any]) -> str:
    """A plain, printable HTML page of the catalogue, in Indonesian.

    Each field row has the anchor ``Type.field``, so GraphiQL links a field to
    ``/catalogue#Type.field``; a field several OPDs resolve (an entity key) has it in the row of
    the OPD that resolves most of the type (its owner), ``opd:Type.field`` elsewhere.
    """
    e = html.escape
    parts = [
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>",
        "<title>Katalog Data SPLP Lampung</title>",
        "<link rel='icon' href='/favicon.ico'>",
        "<style>body{font-family:sans-serif;max-width:80em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;width:100%;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}"
        "td p{margin:0 0 .3em}.pd{color:#a00;font-weight:bold}code{font-size:.95em}"
        "tr:target{background:#fff3c4}</style></head><body>",
        "<h1>Katalog Data SPLP Lampung</h1>",
        "<p>Setiap OPD: subgraph-nya, tipe dan kolom yang disediakannya; kolom yang merupakan "
        "<span class='pd'>data pribadi</span> serta cakupan (scope) dan kebijakan (policy) yang "
        "melindunginya.</p>",
    ]
    anchors = _plain_anchors(catalogue)
    for opd in catalogue["opds"]:
        parts.append(f"<h2 id='{e(opd['name'])}'>{e(opd['name'])}</h2>")
        if opd.get("url"):
            parts.append(
                f"<p>URL layanan <code>{e(opd['url'])}</code>, diterbitkan oleh "
                f"{e(str(opd.get('published_by')))} pada {_date(opd.get('published_at'))}</p>"
            )
        else:
            parts.append("<p>Belum diterbitkan di registry ini.</p>")
        for t in opd["types"]:
            parts.append(f"<h3>{e(t['name'])}</h3>")
            parts.append(render_description(t.get("description")))
            parts.append(
                "<table><tr><th>Kolom</th><th>Tipe</th><th>Keterangan</th>"
                "<th>Data pribadi</th><th>Cakupan</th><th>Kebijakan</th></tr>"
            )
            for f in t["fields"]:
                anchor = f"{t['name']}.{f['name']}"
                if anchors.get(anchor) != opd["name"]:
                    anchor = f"{opd['name']}:{anchor}"
                scopes = _alternatives(f["scopes"]) or (
                    "terautentikasi" if f["authenticated"] else "-"
                )
                policies = _alternatives(f["policies"]) or "-"
                pd = "tidak"
                if f["personal_data"]:
                    kind = " (nomor identitas)" if f.get("identifier") else ""
                    pd = f"<span class='pd'>ya{kind}</span>"
                parts.append(
                    f"<tr id='{e(anchor)}'><td><code>{e(f['name'])}</code></td>"
                    f"<td><code>{e(f['type'])}</code></td>"
                    f"<td>{render_description(f['description'])}</td><td>{pd}</td>"
                    f"<td>{e(scopes)}</td><td>{e(policies)}</td></tr>"
                )
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
