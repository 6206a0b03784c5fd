"""Directive semantics on fields, object types, interfaces, implementations and unions.

Two data-driven subgraphs (tests/auth/abstract/: ``zoo`` with an interface ``Animal`` implemented by
``Dog``, ``Cat @authenticated`` and ``Bird`` whose ``name`` has ``@policy``, a union ``Thing = Dog |
Toy`` where ``Toy @requiresScopes``; ``vet`` adding ``Dog.lastCheckup @authenticated``) served over
HTTP, composed by the MIT composer into tests/auth/abstract/supergraph.graphql. Note that the
composer lifts implementations' requirements onto the interface (``interface Animal
@authenticated``, ``Animal.name @policy``): a field reached through the interface needs what
every implementation needs.

Federation semantics (https://specs.apollo.dev/requiresScopes/v0.1): outer list OR, inner list AND.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.auth.access import AccessControl
from gateway.auth.config import PolicySection
from gateway.auth.directives import AuthRequirements, Requirement
from gateway.auth.principal import Grants, Principal
from gateway.engine import Gateway, GraphQLRequest
from gateway.supergraph import Supergraph, load_supergraph
from tests.auth.harness import RecordingTransport, dev_section
from tests.federation.subgraph_server import DataDrivenSubgraph, SubgraphHost

pytestmark = pytest.mark.anyio

CASE = Path(__file__).parent / "abstract"
UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
POLICIES = {name: PolicySection(roles_any=[name]) for name in ("p1", "p2", "p3", "birdwatch")}


@pytest.fixture(scope="module")
def zoo_urls() -> Iterator[dict[str, str]]:
    with SubgraphHost() as host:
        yield {
            name: host.mount(
                f"auth/{name}",
                DataDrivenSubgraph.from_files(
                    name, CASE / f"{name}.graphql", CASE / f"{name}.json"
                ),
            )
            for name in ("zoo", "vet")
        }


@pytest.fixture(scope="module")
def zoo() -> Supergraph:
    return load_supergraph((CASE / "supergraph.graphql").read_text(), authorization_enforced=True)


Run = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def run(zoo: Supergraph, zoo_urls: dict[str, str]) -> AsyncIterator[Run]:
    transport = RecordingTransport()
    access = AccessControl(zoo, dev_section(policies=POLICIES))
    gateway = Gateway(zoo, transport=transport, subgraph_urls=zoo_urls, access=access)

    async def execute(
        query: str, principal: Principal | None = None, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        request = GraphQLRequest(query, variables, principal=principal)
        return (await gateway.process(request)).response

    execute.transport = transport  # type: ignore[attr-defined]
    yield execute
    await gateway.aclose()
    await transport.inner.aclose()


def caller(scopes: set[str] = frozenset(), roles: set[str] = frozenset()) -> Principal:  # type: ignore[assignment]
    return Principal(
        authenticated=True, application="zoo-app", scopes=frozenset(scopes), roles=frozenset(roles)
    )


def refused(response: dict[str, Any]) -> list[tuple[list[Any], str]]:
    return [
        (e["path"], e["message"].split(":")[0])
        for e in response.get("errors", [])
        if e["extensions"]["code"] == UNAUTHORIZED
    ]


# --- unit: the requirement algebra --------------------------------------------------------


def grants(scopes: set[str] = frozenset(), policies: dict[str, bool] | None = None) -> Grants:  # type: ignore[assignment]
    return Grants(
        authenticated=True,
        scopes=frozenset(scopes),
        policies=tuple((n, None if ok else f"{n} refused") for n, ok in (policies or {}).items()),
    )


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [({"a", "b"}, True), ({"a"}, False), ({"b"}, False), ({"c"}, True), (set(), False)],
)
def test_requires_scopes_outer_or_inner_and(scopes: set[str], allowed: bool) -> None:
    requirement = Requirement(scopes=((frozenset({"a", "b"}), frozenset({"c"})),))
    assert (requirement.check(grants(scopes)) is None) is allowed


@pytest.mark.parametrize(
    ("granted", "allowed"),
    [
        ({"p1": True, "p2": True, "p3": False}, True),
        ({"p1": True, "p2": False, "p3": False}, False),
        ({"p1": False, "p2": False, "p3": True}, True),
        ({}, False),
    ],
)
def test_policy_outer_or_inner_and(granted: dict[str, bool], allowed: bool) -> None:
    requirement = Requirement(policies=((frozenset({"p1", "p2"}), frozenset({"p3"})),))
    assert (requirement.check(grants(policies=granted)) is None) is allowed


def test_two_directives_on_one_element_must_both_hold() -> None:
    requirement = Requirement(
        authenticated=True,
        scopes=((frozenset({"s"}),),),
        policies=((frozenset({"p"}),),),
    )
    assert requirement.check(grants({"s"}, {"p": True})) is None
    assert requirement.check(grants({"s"}, {"p": False})) == "p refused"
    assert requirement.check(grants(set(), {"p": True})) == "it needs the scope s"
    anonymous = Grants(authenticated=False, scopes=frozenset(), policies=())
    assert requirement.check(anonymous) == "it needs an authenticated consumer application"


def test_requirements_are_read_from_the_supergraph(zoo: Supergraph) -> None:
    requirements = AuthRequirements.from_supergraph(zoo)
    assert requirements.types["Cat"] == Requirement(authenticated=True)
    assert requirements.types["Toy"] == Requirement(scopes=((frozenset({"toys"}),),))
    assert requirements.fields[("Dog", "breed")] == Requirement(
        scopes=((frozenset({"a", "b"}), frozenset({"c"})),)
    )
    assert requirements.fields[("Keeper", "secret")] == Requirement(
        policies=((frozenset({"p1", "p2"}), frozenset({"p3"})),)
    )
    assert requirements.policy_names == {"p1", "p2", "p3", "birdwatch"}
    # a field on the interface needs what every implementation needs
    effective = requirements.effective_field("Animal", "name")
    assert effective.authenticated
    assert effective.policies == ((frozenset({"birdwatch"}),),)


def test_renamed_directives_are_honoured() -> None:
    sdl = (CASE / "supergraph.graphql").read_text()
    renamed = sdl.replace(
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)',
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", as: "signedIn", for: SECURITY)',
    ).replace("@authenticated", "@signedIn")
    requirements = AuthRequirements.from_supergraph(
        load_supergraph(renamed, authorization_enforced=True)
    )
    assert requirements.types["Cat"] == Requirement(authenticated=True)


# --- end to end over the data-driven subgraphs ----------------------------------------------


async def test_field_scopes_or_and_end_to_end(run: Run) -> None:
    query = "{ keeper { favourite { ... on Dog { name breed } } } }"
    ok = await run(query, caller({"a", "b"}))
    assert ok == {"data": {"keeper": {"favourite": {"name": "Rex", "breed": "Kintamani"}}}}
    assert await run(query, caller({"c"})) == ok
    partial = await run(query, caller({"a"}))
    assert refused(partial) == [(["keeper", "favourite", "breed"], "Unauthorized field Dog.breed")]
    assert partial["data"] == {"keeper": {"favourite": None}}  # breed is non-null


async def test_field_policies_or_and_end_to_end(run: Run) -> None:
    query = "{ keeper { name secret } }"
    both = await run(query, caller(roles={"p1", "p2"}))
    assert both == {"data": {"keeper": {"name": "Sari", "secret": "feeds at 5"}}}
    assert await run(query, caller(roles={"p3"})) == both
    one = await run(query, caller(roles={"p1"}))
    assert one["data"] == {"keeper": {"name": "Sari", "secret": None}}
    assert refused(one) == [(["keeper", "secret"], "Unauthorized field Keeper.secret")]


async def test_authenticated_field_from_another_subgraph(run: Run) -> None:
    query = "{ keeper { favourite { ... on Dog { lastCheckup } } } }"
    assert (await run(query, caller()))["data"] == {
        "keeper": {"favourite": {"lastCheckup": "2026-01-10"}}
    }
    run.transport.bodies.clear()  # type: ignore[attr-defined]
    anonymous = await run(query)
    # Animal is @authenticated (lifted from Cat): favourite goes, and keeper with nothing left
    assert refused(anonymous) == [(["keeper", "favourite"], "Unauthorized field Keeper.favourite")]
    assert anonymous["data"] == {"keeper": None}
    assert run.transport.bodies == []  # type: ignore[attr-defined]


async def test_type_on_an_implementation_removes_its_fragment(run: Run) -> None:
    query = "{ animals { id ... on Cat { name } ... on Dog { breed } } }"
    # an authenticated caller without scopes: Cat fragment allowed, Dog.breed refused
    response = await run(query, caller(roles={"birdwatch"}))
    assert refused(response) == [(["animals", "breed"], "Unauthorized field Dog.breed")]
    assert response["data"] is None  # breed is non-null inside a non-null list item


async def test_interface_field_needs_every_implementation(run: Run) -> None:
    query = "{ animals { id name } }"
    without_policy = await run(query, caller())
    assert refused(without_policy) == [(["animals", "name"], "Unauthorized field Animal.name")]
    with_policy = await run(query, caller(roles={"birdwatch"}))
    assert with_policy == {
        "data": {
            "animals": [
                {"id": "d1", "name": "Rex"},
                {"id": "c1", "name": "Mimi"},
                {"id": "b1", "name": "Jalak"},
            ]
        }
    }


async def test_a_refused_field_behind_a_variable_in_a_named_fragment_on_an_interface(
    run: Run,
) -> None:
    query = """
    query Seen($v: Boolean!) { animals { ...Seen } }
    fragment Seen on Animal { id name @include(if: $v) }
    """
    # excluded by the request: nothing refused, nothing reported
    assert await run(query, caller(), {"v": False}) == {
        "data": {"animals": [{"id": "d1"}, {"id": "c1"}, {"id": "b1"}]}
    }
    # included: refused like the plain field (name is non-null in a list of non-null animals)
    included = await run(query, caller(), {"v": True})
    assert refused(included) == [(["animals", "name"], "Unauthorized field Animal.name")]
    assert included["data"] is None
    # one rewrite, one plan: the subgraph got the same document both times, without name
    queries = [body["query"] for _, body in run.transport.bodies]  # type: ignore[attr-defined]
    assert len(queries) == 2 and queries[0] == queries[1]
    assert " name" not in queries[0].replace("__typename", "")
    # with the policy the field is there exactly when included
    granted = await run(query, caller(roles={"birdwatch"}), {"v": True})
    assert granted["data"]["animals"][0] == {"id": "d1", "name": "Rex"}


async def test_a_parent_of_excluded_refused_fields_stays_an_object(run: Run) -> None:
    query = "query K($v: Boolean!) { keeper { secret @include(if: $v) } }"
    assert await run(query, caller(), {"v": False}) == {"data": {"keeper": {}}}
    # included: the refused field reads null in its object, like any refused field
    included = await run(query, caller(), {"v": True})
    assert refused(included) == [(["keeper", "secret"], "Unauthorized field Keeper.secret")]
    assert included["data"] == {"keeper": {"secret": None}}


async def test_implementation_fragment_without_the_interface_requirement(run: Run) -> None:
    query = "{ animals { ... on Bird { name } ... on Dog { id } } }"
    response = await run(query, caller())
    assert refused(response) == [(["animals", "name"], "Unauthorized field Bird.name")]
    # Bird.name is non-null in a list of non-null animals: the null reaches data, no other error
    assert response == {"errors": response["errors"], "data": None}


async def test_union_member_type_requirement(run: Run) -> None:
    query = "{ things { ... on Dog { name } ... on Toy { label } } }"
    without = await run(query, caller())
    assert refused(without) == [(["things"], "Unauthorized type Toy")]
    assert without["data"] == {"things": [{"name": "Rex"}, {}]}
    assert "Toy" not in run.transport.text()  # type: ignore[attr-defined]
    with_scope = await run(query, caller({"toys"}))
    assert with_scope == {"data": {"things": [{"name": "Rex"}, {"label": "ball"}]}}


async def test_named_fragments_are_checked_where_they_are_spread(run: Run) -> None:
    query = """
      { keeper { favourite { ...D } } things { ...D } }
      fragment D on Dog { name breed }
    """
    response = await run(query, caller({"toys"}))
    assert refused(response) == [
        (["keeper", "favourite", "breed"], "Unauthorized field Dog.breed"),
        (["things", "breed"], "Unauthorized field Dog.breed"),
    ]


async def test_reject_mode_with_abstract_types(zoo: Supergraph, zoo_urls: dict[str, str]) -> None:
    transport = RecordingTransport()
    access = AccessControl(zoo, dev_section(policies=POLICIES, mode="reject"))
    gateway = Gateway(zoo, transport=transport, subgraph_urls=zoo_urls, access=access)
    try:
        response = (
            await gateway.process(
                GraphQLRequest("{ things { ... on Toy { label } } }", principal=caller())
            )
        ).response
        assert "data" not in response
        assert refused(response) == [(["things"], "Unauthorized type Toy")]
        assert transport.bodies == []
    finally:
        await gateway.aclose()
        await transport.inner.aclose()
