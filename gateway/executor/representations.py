"""Entity representations: the objects at a flatten path, each described for ``_entities``.

Federation spec, ``_entities(representations: [_Any!]!)``: a representation is the object's
``__typename`` plus its key fields and the fields the subgraph ``@requires``. The plan says which
(``RepresentationRule``); equal representations are sent once and their result merged into every
object that produced them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import orjson

from gateway.planner.plan import (
    LIST_MARKER,
    ContextInput,
    PathElement,
    RepresentationRule,
    RequiredField,
    RequiredSelection,
)

#: A client response path: response keys and list indices.
ResponsePath = tuple[str | int, ...]


class _Missing:
    """Marks a representation that cannot be built (a required field is absent)."""


_MISSING = _Missing()


def objects_at(data: Any, path: tuple[PathElement, ...]) -> list[dict[str, Any]]:
    """The objects at ``path`` (``@`` = every list item); null and missing are skipped.

    A list met where a key is expected (a nested list field) is walked item by item, so plans
    need not spell every list level; ``@`` met on an object is the object itself.
    """
    return _walk([data], path)


def _walk(level: list[Any], path: tuple[PathElement, ...]) -> list[dict[str, Any]]:
    """The objects at ``path`` below ``level``. Lists are transparent to every step, so walking
    on from the objects found at a prefix gives what walking from the root gives."""
    for element in path:
        level = _list_items(level) if element == LIST_MARKER else _field_values(level, element)
    found: list[dict[str, Any]] = []
    for value in level:
        kind = type(value)
        if kind is dict:
            found.append(value)
        elif kind is list:
            _objects(value, found)
    return found


def _list_items(level: list[Any]) -> list[Any]:
    """One ``@`` step: the items of each list, and each object as itself."""
    following: list[Any] = []
    for value in level:
        kind = type(value)
        if kind is list:
            following.extend(value)
        elif kind is dict:
            following.append(value)
    return following


def _field_values(level: list[Any], element: PathElement) -> list[Any]:
    """One key step: the value of ``element`` on each object, lists walked item by item."""
    following: list[Any] = []
    append = following.append
    for value in level:
        kind = type(value)
        if kind is dict:
            if element in value:
                append(value[element])
        elif kind is list:
            _field_of_items(value, element, following)
    return following


def _field_of_items(items: list[Any], element: PathElement, following: list[Any]) -> None:
    for item in items:
        kind = type(item)
        if kind is dict:
            if element in item:
                following.append(item[element])
        elif kind is list:
            _field_of_items(item, element, following)


def _objects(value: Any, found: list[dict[str, Any]]) -> None:
    kind = type(value)
    if kind is dict:
        found.append(value)
    elif kind is list:
        for item in value:
            _objects(item, found)


class FoundObjects:
    """The objects at the flatten paths of one response, each path walked once.

    Every object of a response lies at one sequence of response keys from the root: subgraph
    answers are merged at the key sequence of the objects they answer for. A merge into the
    objects at a path changes only what lies below the keys it brings, so a path stays valid
    until a merge at one of its prefixes brings the key that leads to it. A path not known yet
    is walked from the objects at its longest known prefix (the parent fetch's flatten path).
    Callers must not change the lists they get.
    """

    __slots__ = ("_data", "_known")

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        #: path -> (its response keys without ``@``, the objects at it)
        self._known: dict[
            tuple[PathElement, ...], tuple[tuple[str, ...], list[dict[str, Any]]]
        ] = {}

    def at(self, path: tuple[PathElement, ...]) -> list[dict[str, Any]]:
        """``objects_at(data, path)``, from what is known."""
        known = self._known
        entry = known.get(path)
        if entry is not None:
            return entry[1]
        found: list[dict[str, Any]] | None = None
        for cut in range(len(path) - 1, 0, -1):
            prefix = known.get(path[:cut])
            if prefix is not None:
                found = _walk(prefix[1], path[cut:])
                break
        if found is None:
            found = objects_at(self._data, path)
        known[path] = (_keys(path), found)
        return found

    def merged(self, path: tuple[PathElement, ...], sources: list[Any]) -> None:
        """``sources`` (objects; anything else is ignored) were deep-merged into the objects at
        ``path``: forget the paths that lead below a key they brought."""
        entry = self._known.get(path)  # mostly: the path was just read by the merging fetch
        keys = entry[0] if entry is not None else _keys(path)
        depth = len(keys)
        below = [
            (known, known_keys[depth])
            for known, (known_keys, _) in self._known.items()
            if len(known_keys) > depth and known_keys[:depth] == keys
        ]
        if not below:
            return
        brought: set[str] = set()
        for source in sources:
            if type(source) is dict:
                brought.update(source)
        for known, key in below:
            if key in brought:
                del self._known[known]


def _keys(path: tuple[PathElement, ...]) -> tuple[str, ...]:
    return tuple(element for element in path if element != LIST_MARKER)


def paths_of_objects_at(data: Any, path: tuple[PathElement, ...]) -> list[ResponsePath]:
    """The response paths of ``objects_at(data, path)``, in the same order (for errors)."""
    return list(_paths(data, path, 0, ()))


def _paths(
    value: Any, path: tuple[PathElement, ...], depth: int, here: ResponsePath
) -> Iterator[ResponsePath]:
    if value is None:
        return
    if isinstance(value, list):
        next_depth = depth + 1 if depth < len(path) and path[depth] == LIST_MARKER else depth
        for index, item in enumerate(value):
            yield from _paths(item, path, next_depth, (*here, index))
        return
    if not isinstance(value, dict):
        return
    if depth == len(path):
        yield here
        return
    element = path[depth]
    if element == LIST_MARKER:
        yield from _paths(value, path, depth + 1, here)
    elif element in value:
        yield from _paths(value[element], path, depth + 1, (*here, element))


def context_groups(
    data: Any, path: tuple[PathElement, ...], inputs: tuple[ContextInput, ...], objects: list[Any]
) -> list[tuple[dict[str, Any], list[int]]]:
    """``objects`` (those at ``path``) grouped by their ``@fromContext`` values.

    Each value is read on the object's ancestor at the input's ``ancestor_path``; an object with
    no such ancestor value gets null. Returns (variables, indices into ``objects``) per distinct
    set of values, in first-seen order: each group is one request.
    """
    values: dict[int, dict[str, Any]] = {id(obj): {} for obj in objects}
    for context_input in inputs:
        prefix = context_input.ancestor_path
        if path[: len(prefix)] != prefix:
            continue
        for ancestor in objects_at(data, prefix):
            value = context_input.value_of(ancestor)
            for obj in objects_at(ancestor, path[len(prefix) :]):
                if id(obj) in values:
                    values[id(obj)][context_input.variable] = value
    groups: dict[bytes, tuple[dict[str, Any], list[int]]] = {}
    for index, obj in enumerate(objects):
        variables = {c.variable: values[id(obj)].get(c.variable) for c in inputs}
        canonical = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        groups.setdefault(canonical, (variables, []))[1].append(index)
    return list(groups.values())


@dataclass(slots=True)
class Representations:
    """Distinct representations in first-seen order; ``owners[i]`` = indices of the objects of i."""

    items: list[dict[str, Any]] = field(default_factory=list)
    owners: list[list[int]] = field(default_factory=list)


class RepresentationBuilder:
    """Builds representations with the supergraph's possible types (fixed per supergraph)."""

    def __init__(self, possible_types: Mapping[str, frozenset[str]]) -> None:
        self._possible_types = possible_types
        self._flat: dict[int, tuple[tuple[RepresentationRule, ...], _FlatRules | None]] = {}

    def applies(self, type_condition: str, typename: str) -> bool:
        """Whether ``typename`` matches ``type_condition`` (itself, or an abstract type of it)."""
        if type_condition == typename:
            return True
        possible = self._possible_types.get(type_condition)
        return possible is not None and typename in possible

    def build(
        self, objects: list[dict[str, Any]], rules: tuple[RepresentationRule, ...]
    ) -> Representations:
        """One representation per object that matches a rule and is complete; deduped."""
        flat = self._flat_rules(rules)
        if flat is not None:
            return flat.build(objects)
        result = Representations()
        seen: dict[Any, int] = {}
        for index, obj in enumerate(objects):
            built = self._generic(obj, rules)
            if built is None:
                continue
            representation, canonical = built
            position = seen.get(canonical)
            if position is None:
                seen[canonical] = len(result.items)
                result.items.append(representation)
                result.owners.append([index])
            else:
                result.owners[position].append(index)
        return result

    def _generic(
        self, obj: dict[str, Any], rules: tuple[RepresentationRule, ...]
    ) -> tuple[dict[str, Any], Any] | None:
        representation = self.represent(obj, rules)
        if representation is None:
            return None
        return representation, orjson.dumps(representation, option=orjson.OPT_SORT_KEYS)

    def _flat_rules(self, rules: tuple[RepresentationRule, ...]) -> _FlatRules | None:
        """The fast form of ``rules`` when they copy scalar fields only (keys, most requires)."""
        cached = self._flat.get(id(rules))
        if cached is not None and cached[0] is rules:
            return cached[1]
        flat = None
        if all(
            isinstance(selection, RequiredField) and not selection.selections
            for rule in rules
            for selection in rule.selections
        ):
            flat = _FlatRules(self, rules)
        self._flat[id(rules)] = (rules, flat)  # the rules object is kept, so its id stays unique
        return flat

    def represent(
        self, obj: dict[str, Any], rules: tuple[RepresentationRule, ...]
    ) -> dict[str, Any] | None:
        """``obj``'s representation by the first rule its ``__typename`` matches, if complete."""
        typename = obj.get("__typename")
        if not isinstance(typename, str):
            return None
        for rule in rules:
            if self.applies(rule.type_condition, typename):
                if any(obj.get(key) is None for key in rule.key):
                    return None  # a null key identifies nothing
                representation: dict[str, Any] = {"__typename": rule.typename or typename}
                if not self._copy(obj, rule.selections, representation):
                    return None
                return representation
        return None

    def _copy(
        self,
        source: dict[str, Any],
        selections: tuple[RequiredSelection, ...],
        target: dict[str, Any],
    ) -> bool:
        for selection in selections:
            if isinstance(selection, RequiredField):
                if selection.response_key not in source:
                    return False
                value = source[selection.response_key]
                if selection.selections and value is not None:
                    value = self._copy_value(value, selection.selections)
                    if value is _MISSING:
                        return False
                existing = target.get(selection.name)
                if isinstance(existing, dict) and isinstance(value, dict):
                    existing.update(value)
                else:
                    target[selection.name] = value
            else:
                typename = source.get("__typename")
                if (
                    isinstance(typename, str)
                    and self.applies(selection.type_condition, typename)
                    and not self._copy(source, selection.selections, target)
                ):
                    return False
        return True

    def _copy_value(self, value: Any, selections: tuple[RequiredSelection, ...]) -> Any:
        if isinstance(value, list):
            items = []
            for item in value:
                copied = item if item is None else self._copy_value(item, selections)
                if copied is _MISSING:
                    return _MISSING
                items.append(copied)
            return items
        if isinstance(value, dict):
            nested: dict[str, Any] = {}
            return nested if self._copy(value, selections, nested) else _MISSING
        return value


#: Per ``__typename``: the typename sent, (name, response key) per field, the getter of the
#: fields' values (the dedup key), how a null key is seen (``_NULL_*``) and the getter of the key's
#: values when they are not the fields' values (a null one: no representation).
_Form = tuple[
    str,
    tuple[tuple[str, str], ...],
    Callable[[dict[str, Any]], Any],
    int,
    Callable[[dict[str, Any]], Any],
]

#: How ``_FlatRules`` finds a null key: no key; the fields' one value is the key's; the fields'
#: values are the key's; the key getter's one value; the key getter's values.
_NO_KEY, _NULL_VALUE, _NULL_IN_VALUES, _NULL_KEY, _NULL_IN_KEY = range(5)


class _FlatRules:
    """Rules copying only scalar fields, resolved per ``__typename`` once.

    The dedup key is the sent typename and the key values, read by one ``itemgetter`` (no JSON
    encoding, no Python loop per object); a value that cannot be hashed (an object or list in a
    key field) falls back to canonical JSON.
    """

    def __init__(
        self, builder: RepresentationBuilder, rules: tuple[RepresentationRule, ...]
    ) -> None:
        self._builder = builder
        self._rules = rules
        self._by_typename: dict[str, _Form | None] = {}

    def _for(self, typename: str) -> _Form | None:
        if typename not in self._by_typename:
            chosen = None
            for rule in self._rules:
                if self._builder.applies(rule.type_condition, typename):
                    fields = tuple(
                        (s.name, s.response_key)
                        for s in rule.selections
                        if isinstance(s, RequiredField)
                    )
                    keys = tuple(response_key for _, response_key in fields)
                    values = itemgetter(*keys) if keys else _no_values
                    chosen = (
                        rule.typename or typename,
                        fields,
                        values,
                        *_null_check(keys, rule.key),
                    )
                    break
            self._by_typename[typename] = chosen
        return self._by_typename[typename]

    def build(self, objects: list[dict[str, Any]]) -> Representations:
        """Distinct representations; a representation is built only for a key not seen yet."""
        result = Representations()
        items, owners = result.items, result.owners
        seen: dict[Any, int] = {}
        forms = self._by_typename
        # the form of the previous object's typename, unpacked (lists are mostly of one type)
        last: str | None = None
        form: _Form | None = None
        read: Callable[[dict[str, Any]], Any] = _no_values
        read_key: Callable[[dict[str, Any]], Any] = _no_values
        sent, null = "", _NO_KEY
        for index, obj in enumerate(objects):
            typename = obj.get("__typename")
            if typename != last:
                if type(typename) is not str:
                    continue
                form = forms[typename] if typename in forms else self._for(typename)
                last = typename
                if form is not None:
                    sent, _, read, null, read_key = form
            if form is None:
                continue
            try:
                values = read(obj)
                if null and (
                    (values is None)
                    if null == _NULL_VALUE
                    else (None in values)
                    if null == _NULL_IN_VALUES
                    else (read_key(obj) is None)
                    if null == _NULL_KEY
                    else (None in read_key(obj))
                ):
                    continue  # a null key identifies nothing: no representation
                key: Any = (sent, values)
                position = seen.get(key)
            except KeyError:
                continue  # a required field (or key) is absent: no representation
            except TypeError:  # an unhashable value (object or list): canonical JSON instead
                key = orjson.dumps(self._represent(obj, form), option=orjson.OPT_SORT_KEYS)
                position = seen.get(key)
            if position is None:
                seen[key] = len(items)
                items.append(self._represent(obj, form))
                owners.append([index])
            else:
                owners[position].append(index)
        return result

    @staticmethod
    def _represent(obj: dict[str, Any], form: _Form) -> dict[str, Any]:
        representation: dict[str, Any] = {"__typename": form[0]}
        for name, response_key in form[1]:
            representation[name] = obj[response_key]
        return representation


def _no_values(obj: dict[str, Any]) -> tuple[()]:
    return ()


def _null_check(
    fields: tuple[str, ...], key: tuple[str, ...]
) -> tuple[int, Callable[[dict[str, Any]], Any]]:
    """How to see a null key: on the fields' values already read when they are the key's, else
    with a getter of the key's values (an ``itemgetter`` of one key returns the bare value)."""
    if not key:
        return _NO_KEY, _no_values
    if fields == key:
        return (_NULL_VALUE if len(key) == 1 else _NULL_IN_VALUES), _no_values
    return (_NULL_KEY if len(key) == 1 else _NULL_IN_KEY), itemgetter(*key)
