"""The data catalogue an SPLP publishes: each OPD, its subgraph, types and fields, personal data
and the scopes and policies that guard each field.

Built from the current supergraph: a field belongs to the subgraphs that resolve it (its
``@join__field`` graphs, else every graph of its type); guards are the field's and its type's
``@authenticated``/``@requiresScopes``/``@policy``.
"""

from __future__ import annotations

import html
from typing import Any

from graphql import (
    ConstDirectiveNode,
    EnumTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    parse,
    print_ast,
    value_from_ast_untyped,
)

from gateway.registry.store import SubgraphVersion

_SKIP_PREFIXES = ("join__", "link__", "policy__", "requiresScopes__")


def _args(d: ConstDirectiveNode) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()}


def _guards(directives: Any) -> dict[str, Any]:
    guards: dict[str, Any] = {"authenticated": False, "scopes": [], "policies": []}
    for d in directives or ():
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
    """The catalogue as JSON-ready data: ``{"opds": [{name, url, published_by, types: [...]}]}``."""
    document = parse(supergraph_sdl)
    enum_to_name: dict[str, str] = {}
    per_graph: dict[str, dict[str, dict[str, Any]]] = {}
    for node in document.definitions:
        if isinstance(node, EnumTypeDefinitionNode) and node.name.value == "join__Graph":
            for value in node.values or ():
                for d in value.directives or ():
                    if d.name.value == "join__graph":
                        enum_to_name[value.name.value] = str(_args(d)["name"])
    personal = set(personal_data_policies)
    for node in document.definitions:
        if not isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            continue
        type_name = node.name.value
        if type_name.startswith(_SKIP_PREFIXES):
            continue
        type_graphs = [
            enum_to_name.get(str(_args(d)["graph"]), str(_args(d)["graph"]))
            for d in node.directives or ()
            if d.name.value == "join__type"
        ]
        type_guards = _guards(node.directives)
        hidden_type = any(d.name.value == "inaccessible" for d in node.directives or ())
        if hidden_type:
            continue
        for f in node.fields or ():
            if any(d.name.value == "inaccessible" for d in f.directives or ()):
                continue
            joins = [_args(d) for d in f.directives or () if d.name.value == "join__field"]
            graphs = (
                [
                    enum_to_name.get(str(j["graph"]), str(j["graph"]))
                    for j in joins
                    if j.get("graph") and not j.get("external")
                ]
                if joins
                else type_graphs
            )
            guards = _guards(f.directives)
            for key in ("scopes", "policies"):
                guards[key] = guards[key] or type_guards[key]
            guards["authenticated"] = guards["authenticated"] or type_guards["authenticated"]
            policy_names = {p for group in guards["policies"] for p in group}
            entry = {
                "name": f.name.value,
                "type": print_ast(f.type),
                "description": f.description.value if f.description else None,
                "personal_data": bool(policy_names & personal),
                **guards,
            }
            for graph in graphs or type_graphs:
                bucket = per_graph.setdefault(graph, {}).setdefault(
                    type_name,
                    {
                        "name": type_name,
                        "description": node.description.value if node.description else None,
                        "fields": [],
                    },
                )
                bucket["fields"].append(entry)
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


def render_catalogue_html(catalogue: dict[str, Any]) -> str:
    """A plain, printable HTML page of the catalogue."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>",
        "<title>Katalog Data SPLP Lampung</title>",
        "<style>body{font-family:sans-serif;max-width:72em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;width:100%;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}"
        ".pd{color:#a00;font-weight:bold}code{font-size:.95em}</style></head><body>",
        "<h1>Katalog Data SPLP Lampung</h1>",
        "<p>Each OPD's subgraph, its types and fields; <span class='pd'>personal data</span> "
        "and the scopes and policies that guard each field.</p>",
    ]
    for opd in catalogue["opds"]:
        parts.append(f"<h2 id='{e(opd['name'])}'>{e(opd['name'])}</h2>")
        if opd.get("url"):
            parts.append(
                f"<p>Routing URL <code>{e(opd['url'])}</code>, published by "
                f"{e(str(opd.get('published_by')))}</p>"
            )
        for t in opd["types"]:
            parts.append(f"<h3>{e(t['name'])}</h3>")
            if t.get("description"):
                parts.append(f"<p>{e(t['description'])}</p>")
            parts.append(
                "<table><tr><th>Field</th><th>Type</th><th>Description</th>"
                "<th>Personal data</th><th>Scopes</th><th>Policies</th></tr>"
            )
            for f in t["fields"]:
                scopes = " or ".join(" and ".join(g) for g in f["scopes"]) or (
                    "authenticated" if f["authenticated"] else "-"
                )
                policies = " or ".join(" and ".join(g) for g in f["policies"]) or "-"
                pd = "<span class='pd'>yes</span>" if f["personal_data"] else "no"
                parts.append(
                    f"<tr><td><code>{e(f['name'])}</code></td><td><code>{e(f['type'])}</code></td>"
                    f"<td>{e(f['description'] or '')}</td><td>{pd}</td><td>{e(scopes)}</td>"
                    f"<td>{e(policies)}</td></tr>"
                )
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
