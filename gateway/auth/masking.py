"""Protection of a shaped response: identifiers pseudonymised, cursors sealed, errors scrubbed.

Follows the client's operation (the operation walk in request mode: fragments resolved,
``@skip``/``@include`` decided like the shaper decided them) over the shaped response, so
aliases, fragments and conditions cannot route around it. For a caller without the reveal rights
of a kind, every field declared as carrying it (entity keys included: they are fields the client
selects) reads the caller's pseudonym (``gateway.auth.identifiers``). Every cursor field is sealed
for the caller and the list it belongs to (``gateway.auth.cursors``), whoever the caller is.
Error messages and extensions are scrubbed of anything shaped like a hidden identifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLNamedType,
    GraphQLSchema,
    SelectionSetNode,
    get_named_type,
    is_composite_type,
)

from gateway.auth.cursors import CursorSeal
from gateway.auth.identifiers import Identifiers
from gateway.operation import Fragment, OperationWalk


@dataclass(slots=True)
class Released:
    """What one response carried: identifiers per kind (the real values, shown in clear or as a
    pseudonym), for the audit layer to index (``gateway/audit`` reads ``AccessOutcome``)."""

    identifiers: list[tuple[str, str]] = field(default_factory=list)
    cursors: int = 0


@dataclass(frozen=True, slots=True)
class _Pass:
    """One masking pass: who the response is for and what stays hidden from them."""

    walk: OperationWalk
    hidden: frozenset[str]
    application: str | None
    released: Released
    #: what to do with each selection, per (selection set, parent type, connection): decided once
    #: per pass, then applied to every object of a list
    steps: dict[tuple[int, str, str], tuple[_Step, ...]] = field(default_factory=dict)
    #: (kind, value) -> pseudonym: a family's members are also the page's residents
    pseudonyms: dict[tuple[str, str], str] = field(default_factory=dict)


# What one selection asks of an object: (action, response key, argument) — see ``Masker._steps``.
# The argument is the fragment's or the nested selection's steps (resolved when the steps are
# made, so walking an object does no lookup), the identifier kind, or the cursor's connection.
_FRAGMENT, _IDENTIFIER, _CURSOR, _NESTED = 0, 1, 2, 3
_Step = tuple[int, Any, Any]


class Masker:
    """Pseudonymises declared identifiers and seals cursors in shaped responses."""

    def __init__(
        self,
        schema: GraphQLSchema,
        identifiers: Identifiers,
        seal: CursorSeal,
        possible_types: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self._schema = schema
        self.identifiers = identifiers
        self.seal = seal
        self._possible = dict(possible_types or {})

    def _declared(self, coordinates: Mapping[str, str], parent: str, name: str) -> str | None:
        found = coordinates.get(f"{parent}.{name}")
        if found is not None:
            return found
        for implementation in self._possible.get(parent, ()):
            found = coordinates.get(f"{implementation}.{name}")
            if found is not None:
                return found
        return None

    def _is_cursor(self, parent: str, name: str) -> bool:
        cursors = self.identifiers.cursor_fields
        if f"{parent}.{name}" in cursors:
            return True
        return any(f"{o}.{name}" in cursors for o in self._possible.get(parent, ()))

    def mask_data(
        self,
        data: Any,
        walk: OperationWalk,
        hidden: frozenset[str],
        application: str | None = None,
    ) -> Released:
        """Protect ``data`` (the shaped response data) in place; what it released.

        ``walk`` is the client's operation in request mode: the selections the response holds.
        """
        released = Released()
        if isinstance(data, dict) and walk.root is not None:
            state = _Pass(walk, hidden, application, released)
            steps = self._steps(state, walk.operation.selection_set, walk.root, "")
            self._walk(data, state, steps)
        return released

    def _walk(self, value: Any, state: _Pass, steps: tuple[_Step, ...]) -> None:
        if type(value) is not dict:
            if isinstance(value, list):
                for item in value:
                    self._walk(item, state, steps)
                return
            if not isinstance(value, dict):
                return
        for action, key, argument in steps:
            if action == _FRAGMENT:
                self._walk(value, state, argument)
            elif key in value:
                if action == _NESTED:
                    self._walk(value[key], state, argument)
                elif action == _IDENTIFIER:
                    value[key] = self._identifier(value[key], argument, state)
                else:
                    value[key] = self._cursor(value[key], state, argument)

    def _steps(
        self,
        state: _Pass,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        connection: str,
    ) -> tuple[_Step, ...]:
        """What masking does with each selection of ``selection_set`` on ``parent``, nested
        selections included: decided once per pass (memoised per selection set, type and
        connection), then applied to every object of a list."""
        memo = (id(selection_set), parent.name, connection)
        found = state.steps.get(memo)
        if found is not None:
            return found
        steps: list[_Step] = []
        for selection in state.walk.selections(selection_set, parent):
            if isinstance(selection, Fragment):
                # every fragment, whatever the runtime type: masking more is safe, less is not
                target = selection.target if is_composite_type(selection.target) else parent
                assert target is not None
                inner = self._steps(state, selection.selection_set, target, connection)
                steps.append((_FRAGMENT, None, inner))
                continue
            definition = selection.definition
            if definition is None:
                continue
            key, name = selection.key, selection.name
            kind = self._declared(self.identifiers.fields, parent.name, name)
            if kind is not None:
                steps.append((_IDENTIFIER, key, kind))
            elif self._is_cursor(parent.name, name):
                steps.append((_CURSOR, key, connection))
            elif selection.node.selection_set is not None:
                inner_connection = connection
                if self.identifiers.cursor_argument in definition.args:
                    inner_connection = f"{parent.name}.{name}"
                named = get_named_type(definition.type)
                nested = self._steps(state, selection.node.selection_set, named, inner_connection)
                steps.append((_NESTED, key, nested))
        found = state.steps[memo] = tuple(steps)
        return found

    def _identifier(self, value: Any, kind: str, state: _Pass) -> Any:
        if isinstance(value, list):
            return [self._identifier(v, kind, state) for v in value]
        if not isinstance(value, str):
            return value
        state.released.identifiers.append((kind, value))
        if kind not in state.hidden:
            return value
        found = state.pseudonyms.get((kind, value))
        if found is None:
            found = self.identifiers.pseudonym(kind, state.application, value)
            state.pseudonyms[(kind, value)] = found
        return found

    def _cursor(self, value: Any, state: _Pass, connection: str) -> Any:
        if not isinstance(value, str):
            return value
        state.released.cursors += 1
        return self.seal.seal(value, state.application, connection)

    def scrub_errors(
        self, errors: list[dict[str, Any]], hidden: frozenset[str]
    ) -> list[dict[str, Any]]:
        """Errors with every hidden identifier in their messages and extensions masked."""
        if not hidden:
            return errors
        return [self._scrub(error, hidden) for error in errors]

    def _scrub(self, value: Any, hidden: frozenset[str]) -> Any:
        if isinstance(value, str):
            return self.identifiers.scrub_text(value, hidden)
        if isinstance(value, dict):
            return {k: self._scrub(v, hidden) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub(v, hidden) for v in value]
        return value
