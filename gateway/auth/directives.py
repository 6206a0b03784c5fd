"""The authorization requirements a supergraph carries, read once when it is loaded.

Federation's authorization directives (https://specs.apollo.dev/authenticated/v0.1,
https://specs.apollo.dev/requiresScopes/v0.1, https://specs.apollo.dev/policy/v0.1) sit on fields,
object types, interfaces, scalars and enums of the supergraph, under the local names its ``@link``s
give them. ``@requiresScopes(scopes: [["a", "b"], ["c"]])`` means (a AND b) OR c; ``@policy`` alike.

What one selection of an operation needs is the conjunction of:
- the field's own directives;
- the directives of the field's return type (the type's data is behind it);
- for a field selected on an interface: the same field on every implementation, and each
  implementation type's own directives (the value may be any of them).
``effective_field`` computes that once per coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    ConstDirectiveNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    ListValueNode,
    StringValueNode,
    ValueNode,
    get_named_type,
    parse,
)

from gateway.auth.principal import Grants
from gateway.supergraph import Supergraph
from gateway.supergraph.links import read_links

#: an OR of AND-groups: ``[["a", "b"], ["c"]]``
Alternatives = tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class Requirement:
    """A conjunction: authenticated, and each scopes clause, and each policies clause."""

    authenticated: bool = False
    scopes: tuple[Alternatives, ...] = ()
    policies: tuple[Alternatives, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.authenticated or self.scopes or self.policies)

    def merge(self, other: Requirement) -> Requirement:
        if other.empty:
            return self
        if self.empty:
            return other
        return Requirement(
            self.authenticated or other.authenticated,
            tuple(dict.fromkeys((*self.scopes, *other.scopes))),
            tuple(dict.fromkeys((*self.policies, *other.policies))),
        )

    @property
    def policy_names(self) -> frozenset[str]:
        return frozenset(name for clause in self.policies for group in clause for name in group)

    def check(self, grants: Grants) -> str | None:
        """None when ``grants`` satisfy this requirement; otherwise why not (for the error)."""
        if self.authenticated and not grants.authenticated:
            return "it needs an authenticated consumer application"
        for clause in self.scopes:
            if not any(group <= grants.scopes for group in clause):
                options = " or ".join(" and ".join(sorted(g)) or "(none)" for g in clause)
                return f"it needs the scope {options}"
        for clause in self.policies:
            if not any(all(grants.policy_granted(p) for p in group) for group in clause):
                return _policy_reason(clause, grants)
        return None


def _policy_reason(clause: Alternatives, grants: Grants) -> str:
    for group in clause:
        for name in sorted(group):
            reason = grants.policy_reason(name)
            if reason is not None:
                return reason
    return "a policy refuses it"


NO_REQUIREMENT = Requirement()


def _alternatives(node: ValueNode | None) -> Alternatives:
    if not isinstance(node, ListValueNode):
        return ()
    groups = []
    for inner in node.values:
        items = inner.values if isinstance(inner, ListValueNode) else (inner,)
        groups.append(frozenset(v.value for v in items if isinstance(v, StringValueNode)))
    return tuple(groups)


class AuthRequirements:
    """Per type and per field coordinate: the requirement declared, and the effective one."""

    def __init__(
        self,
        supergraph: Supergraph,
        types: dict[str, Requirement],
        fields: dict[tuple[str, str], Requirement],
    ) -> None:
        self._supergraph = supergraph
        self.types = types
        self.fields = fields
        self._effective: dict[tuple[str, str], Requirement] = {}
        self.policy_names = frozenset(
            name for r in (*types.values(), *fields.values()) for name in r.policy_names
        )

    @classmethod
    def from_supergraph(cls, supergraph: Supergraph) -> AuthRequirements:
        features = read_links(parse(supergraph.sdl, no_location=True))
        names: dict[str, str] = {}
        for feature in features:
            if feature.identity == "https://specs.apollo.dev/authenticated":
                names[feature.directive("authenticated")] = "authenticated"
            elif feature.identity == "https://specs.apollo.dev/requiresScopes":
                names[feature.directive("requiresScopes")] = "requiresScopes"
            elif feature.identity == "https://specs.apollo.dev/policy":
                names[feature.directive("policy")] = "policy"
        types: dict[str, Requirement] = {}
        fields: dict[tuple[str, str], Requirement] = {}
        if not names:
            return cls(supergraph, types, fields)
        for type_name, gql_type in supergraph.schema.type_map.items():
            if type_name.startswith("__"):
                continue
            nodes = [gql_type.ast_node, *(gql_type.extension_ast_nodes or ())]
            directives = [d for n in nodes if n is not None for d in n.directives or ()]
            requirement = _read(directives, names)
            if not requirement.empty:
                types[type_name] = requirement
            if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType):
                for field_name, gql_field in gql_type.fields.items():
                    node = gql_field.ast_node
                    requirement = _read(list(node.directives or ()) if node else [], names)
                    if not requirement.empty:
                        fields[(type_name, field_name)] = requirement
        return cls(supergraph, types, fields)

    def require(self, parent: str, field_name: str, requirement: Requirement) -> None:
        """Add what the gateway's own declarations ask of a field (lookups by identifier)."""
        key = (parent, field_name)
        self.fields[key] = self.fields.get(key, NO_REQUIREMENT).merge(requirement)
        self._effective.clear()
        self.policy_names = self.policy_names | requirement.policy_names

    def of_type(self, type_name: str) -> Requirement:
        return self.types.get(type_name, NO_REQUIREMENT)

    def effective_field(self, parent: str, field_name: str) -> Requirement:
        """Everything a selection of ``parent.field_name`` needs (see the module docstring)."""
        key = (parent, field_name)
        found = self._effective.get(key)
        if found is not None:
            return found
        schema = self._supergraph.schema
        parent_type = schema.get_type(parent)
        requirement = self.fields.get(key, NO_REQUIREMENT)
        if isinstance(parent_type, GraphQLObjectType | GraphQLInterfaceType):
            gql_field = parent_type.fields.get(field_name)
            if gql_field is not None:
                named: GraphQLNamedType = get_named_type(gql_field.type)
                requirement = requirement.merge(self.of_type(named.name))
            if isinstance(parent_type, GraphQLInterfaceType):
                for implementation in sorted(self._supergraph.possible_types.get(parent, ())):
                    requirement = requirement.merge(self.of_type(implementation))
                    requirement = requirement.merge(
                        self.fields.get((implementation, field_name), NO_REQUIREMENT)
                    )
        self._effective[key] = requirement
        return requirement

    def check_field(self, parent: str, field_name: str, grants: Grants) -> str | None:
        return self.effective_field(parent, field_name).check(grants)

    def check_type(self, type_name: str, grants: Grants) -> str | None:
        return self.of_type(type_name).check(grants)


def _read(directives: list[ConstDirectiveNode], names: dict[str, str]) -> Requirement:
    authenticated = False
    scopes: list[Alternatives] = []
    policies: list[Alternatives] = []
    for directive in directives:
        kind = names.get(directive.name.value)
        if kind is None:
            continue
        args = {a.name.value: a.value for a in directive.arguments or ()}
        if kind == "authenticated":
            authenticated = True
        elif kind == "requiresScopes":
            scopes.append(_alternatives(args.get("scopes")))
        else:
            policies.append(_alternatives(args.get("policies")))
    return Requirement(authenticated, tuple(scopes), tuple(policies))
