"""``@link`` core-spec features of a supergraph: which specs it uses, under which names, for what.

Federation supergraphs declare every spec they rely on with ``@link(url:, as:, for:, import:)``.
A router must refuse a supergraph that links a ``for: EXECUTION`` or ``for: SECURITY`` feature it
does not implement (https://specs.apollo.dev/link/v1.0/#Purpose): serving it would silently
mis-execute or expose data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import (
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    ListValueNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    ValueNode,
)

from gateway.errors import SupergraphError

_URL = re.compile(r"^(?P<identity>.+)/(?P<name>[A-Za-z_][A-Za-z0-9_-]*)/v(?P<version>\d+\.\d+)/?$")

#: Features this gateway implements, by identity, with the versions it understands.
EXECUTION_FEATURES: dict[str, frozenset[str]] = {
    "https://specs.apollo.dev/link": frozenset({"1.0"}),
    "https://specs.apollo.dev/join": frozenset({"0.2", "0.3", "0.4", "0.5"}),
    "https://specs.apollo.dev/context": frozenset({"0.1"}),
    # served by the connector transport (gateway/connectors/serving.py); the composer links the
    # newest version it knows whatever the subgraphs link (each subgraph's own is read back)
    "https://specs.apollo.dev/connect": frozenset({"0.1", "0.2", "0.3"}),
}
#: Security features enforced by the gateway core itself (hiding, not authorization).
CORE_SECURITY_FEATURES: dict[str, frozenset[str]] = {
    "https://specs.apollo.dev/inaccessible": frozenset({"0.1", "0.2"}),
}
#: The authorization features; enforced only when the gateway runs with authorization enabled.
AUTHORIZATION_FEATURES: dict[str, frozenset[str]] = {
    "https://specs.apollo.dev/authenticated": frozenset({"0.1"}),
    "https://specs.apollo.dev/requiresScopes": frozenset({"0.1"}),
    "https://specs.apollo.dev/policy": frozenset({"0.1"}),
}


@dataclass(frozen=True, slots=True)
class LinkedFeature:
    """One ``@link``: the spec identity and version, the local name, purpose and imports."""

    url: str
    identity: str
    spec_name: str
    version: str
    local_name: str
    purpose: str | None
    imports: dict[str, str]  # spec element ("@key", "Scope") -> local name ("@key", "Scope")

    def directive(self, name: str) -> str:
        """Local name (without ``@``) of this feature's directive ``name``."""
        element = "@" + name
        if element in self.imports:
            return self.imports[element][1:]
        if name == self.spec_name:
            return self.local_name
        return f"{self.local_name}__{name}"

    def type_name(self, name: str) -> str:
        """Local name of this feature's named type ``name`` (e.g. ``join__Graph``)."""
        return self.imports.get(name, f"{self.local_name}__{name}")

    def owns(self, local_name: str) -> bool:
        """Whether a directive or type name in the SDL belongs to this feature."""
        bare = local_name.lstrip("@")
        return (
            bare == self.local_name
            or bare.startswith(self.local_name + "__")
            or any(v.lstrip("@") == bare for v in self.imports.values())
        )


def read_links(document: DocumentNode) -> list[LinkedFeature]:
    """Every ``@link`` on the schema definition or its extensions."""
    features: list[LinkedFeature] = []
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value != "link":
                continue
            args = {arg.name.value: arg.value for arg in directive.arguments or ()}
            url = _string(args.get("url"))
            if url is None:
                raise SupergraphError("a @link on the schema has no url")
            match = _URL.match(url)
            if match is None:
                raise SupergraphError(f"@link url {url!r} is not of the form <identity>/vX.Y")
            spec_name = match["name"]
            local = _string(args.get("as")) or spec_name
            purpose_node = args.get("for")
            purpose = purpose_node.value if isinstance(purpose_node, EnumValueNode) else None
            features.append(
                LinkedFeature(
                    url=url,
                    identity=f"{match['identity']}/{spec_name}",
                    spec_name=spec_name,
                    version=match["version"],
                    local_name=local,
                    purpose=purpose,
                    imports=_imports(args.get("import")),
                )
            )
    if not any(f.identity == "https://specs.apollo.dev/join" for f in features):
        raise SupergraphError(
            "this is not a Federation 2 supergraph: it has no @link to the join spec "
            "(https://specs.apollo.dev/join/v0.3 or later); compose it with a Federation 2 composer"
        )
    return features


def check_supported(features: list[LinkedFeature], *, authorization_enforced: bool = False) -> None:
    """Refuse EXECUTION and SECURITY features this gateway does not enforce."""
    supported = {**EXECUTION_FEATURES, **CORE_SECURITY_FEATURES}
    if authorization_enforced:
        supported.update(AUTHORIZATION_FEATURES)
    for feature in features:
        versions = supported.get(feature.identity)
        if versions is not None and feature.version not in versions:
            raise SupergraphError(
                f"the supergraph links {feature.url}, but this gateway implements "
                f"{feature.spec_name} versions {', '.join(sorted(versions))} only",
                code="UNSUPPORTED_FEATURE",
            )
        if versions is None and feature.purpose in ("EXECUTION", "SECURITY"):
            reason = (
                "enable authorization in the gateway configuration to enforce it"
                if feature.identity in AUTHORIZATION_FEATURES
                else "serving it would ignore what it requires"
            )
            raise SupergraphError(
                f"the supergraph links {feature.url} for {feature.purpose}, which this gateway "
                f"does not enforce; {reason}",
                code="UNSUPPORTED_FEATURE",
            )


def _string(node: ValueNode | None) -> str | None:
    return node.value if isinstance(node, StringValueNode) else None


def _imports(node: ValueNode | None) -> dict[str, str]:
    imports: dict[str, str] = {}
    if not isinstance(node, ListValueNode):
        return imports
    for item in node.values:
        if isinstance(item, StringValueNode):
            imports[item.value] = item.value
        elif isinstance(item, ObjectValueNode):
            fields = {f.name.value: f.value for f in item.fields}
            name, alias = _string(fields.get("name")), _string(fields.get("as"))
            if name:
                imports[name] = alias or name
    return imports


def boolean(node: ValueNode | None, default: bool = False) -> bool:
    """Read a Boolean argument literal."""
    return node.value if isinstance(node, BooleanValueNode) else default
