"""``@fromContext`` arguments: variable names and where their values sit in the response.

A field with contextual arguments (``@join__field(contextArguments:)``) is always asked in an
entity fetch of its own subgraph; each argument becomes a variable of that fetch, named as
@apollo/query-planner names it (``contextualArgument_<graph index + 1>_<index of the argument
coordinate among the subgraph's contextual arguments, sorted>``), and its value is read by the
executor from the nearest ancestor whose type sets the context (``plan.ContextInput``): a path
of single fields (``{ a { b } }``), or with type conditions (``... on A { x } ... on B { y }``)
the path of the fragment on the ancestor's ``__typename``.
"""

from __future__ import annotations

from graphql import ArgumentNode, NameNode, VariableNode

from gateway.errors import PlanningError
from gateway.planner.plan import ContextInput, PathElement
from gateway.planner.selections import Field, Fragment, Selection, arguments_text
from gateway.supergraph.model import ContextArgument, Supergraph


def context_variable(sg: Supergraph, graph: str, type_name: str, field_name: str, arg: str) -> str:
    """The variable name @apollo/query-planner gives this contextual argument."""
    key = f"context-variables/{graph}"
    names = sg.derived.get(key)
    if not isinstance(names, dict):
        coordinates = sorted(
            f"{t}.{f}({a.name}:)"
            for (t, f), entries in sg.field_graphs.items()
            if graph in entries
            for a in entries[graph].context_arguments
        )
        index = list(sg.subgraphs).index(graph) + 1
        names = {c: f"contextualArgument_{index}_{i}" for i, c in enumerate(coordinates)}
        sg.derived[key] = names
    coordinate = f"{type_name}.{field_name}({arg}:)"
    if coordinate not in names:  # not recorded on this type in the supergraph: still unique
        return f"contextualArgument_{type_name}_{field_name}_{arg}"
    return str(names[coordinate])


def context_selections(
    selections: list[Selection], context_type: str, *, abstract: bool
) -> list[Selection]:
    """What to ask of the context's position (of type ``context_type``): the argument's
    selection; with type conditions, on an object type the fragment of that type alone, on an
    abstract type every fragment with ``__typename`` first (the executor picks the fragment of
    the object's own type)."""
    if not any(isinstance(s, Fragment) for s in selections):
        return selections
    if abstract:
        return [Field(response_key="__typename", name="__typename"), *selections]
    for selection in selections:
        if isinstance(selection, Fragment) and selection.type_condition == context_type:
            return selection.selections
    raise PlanningError(  # composition refuses a context type that no fragment matches
        f"the @fromContext selection has no fragment on {context_type}, which sets the context"
    )


def context_input(
    variable: str,
    argument: ContextArgument,
    ancestor_path: tuple[PathElement, ...],
    selections: list[Selection],
) -> ContextInput:
    """Where the executor reads ``argument``'s value: one field path below the ancestor, or
    (``... on A { x } ... on B { y { z } }``) one path per object type of the ancestor."""
    fragments = [s for s in selections if isinstance(s, Fragment)]
    if not fragments:
        return ContextInput(
            variable, argument.type_text, ancestor_path, _path(selections, argument)
        )
    by_type = tuple(
        (fragment.type_condition or "", _path(fragment.selections, argument))
        for fragment in fragments
    )
    return ContextInput(variable, argument.type_text, ancestor_path, (), by_type)


def _path(selections: list[Selection], argument: ContextArgument) -> tuple[str, ...]:
    """The response keys from the context object to the value: one chain of fields (the
    composer accepts nothing else, composition/context.py)."""
    path: list[str] = []
    level = selections
    while level:
        if len(level) != 1 or not isinstance(level[0], Field):
            raise PlanningError(
                f"@fromContext selection {argument.selection_text!r} is neither a single field "
                "path nor inline fragments each selecting one"
            )
        path.append(level[0].response_key)
        level = level[0].selections
    return tuple(path)


def with_context_arguments(fld: Field, variables: dict[str, str]) -> Field:
    """``fld`` asking each contextual argument (name -> variable) as ``arg: $variable``."""
    added = tuple(
        ArgumentNode(name=NameNode(value=name), value=VariableNode(name=NameNode(value=variable)))
        for name, variable in variables.items()
    )
    arguments = fld.arguments + added
    return Field(
        response_key=fld.response_key,
        name=fld.name,
        arguments=arguments,
        conditions=fld.conditions,
        selections=fld.selections,
        arguments_text=arguments_text(arguments),
    )
