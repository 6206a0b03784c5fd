"""Which data subjects an operation touched: the selections the rewrite adds to learn them, and
how they are read back from the subgraphs' merged data.

``audit.subject_fields`` maps a type to one or more paths to an identifier: ``Penduduk = "nik"``,
``Keluarga = ["noKk", "anggota.nik"]`` (a family-level read is filed under every member too),
``PesertaDidik = "penduduk.nik"`` (a pupil read through ``Sekolah.siswa`` under the pupil's NIK).
A one-field path is fetched as ``jamajamaAuditSubject: nik``; a longer one nests:
``jamajamaAuditSubject_anggota_nik: anggota { jamajamaAuditSubject: nik }``. The client never
sees them (the shaper keeps only what the client asked for). A nested path costs what fetching
it costs: ``anggota.nik`` comes from the subgraph that already resolves the family (kependudukan)
when the family is reached from there, and needs one more entity fetch when it is not;
``penduduk.nik`` is the key the pupil's subgraph already holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import GraphQLSchema, get_named_type, is_leaf_type
from graphql.language import FieldNode, NameNode, SelectionSetNode

SUBJECT_ALIAS = "jamajamaAuditSubject"


def subject_paths(
    schema: GraphQLSchema, fields: Mapping[str, str | Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """``fields`` normalised to dotted paths, keeping only those the schema can answer (a
    supergraph without ``Keluarga.anggota`` just does not index members)."""
    resolved: dict[str, tuple[str, ...]] = {}
    for type_name, spec in fields.items():
        paths = (spec,) if isinstance(spec, str) else tuple(spec)
        kept = tuple(p for p in paths if _resolves(schema, type_name, p.split(".")))
        if kept:
            resolved[type_name] = kept
    return resolved


def _resolves(schema: GraphQLSchema, type_name: str, path: list[str]) -> bool:
    current: Any = schema.get_type(type_name)
    for position, name in enumerate(path):
        fields = getattr(current, "fields", None)
        if not fields or name not in fields:
            return False
        current = get_named_type(fields[name].type)
        if is_leaf_type(current) != (position == len(path) - 1):
            return False
    return True


def subject_selection(path: str) -> FieldNode:
    """The hidden selection that fetches the identifier at ``path``."""
    head, _, rest = path.partition(".")
    if not rest:
        return FieldNode(alias=NameNode(value=SUBJECT_ALIAS), name=NameNode(value=head))
    alias = f"{SUBJECT_ALIAS}_{path.replace('.', '_')}"
    return FieldNode(
        alias=NameNode(value=alias),
        name=NameNode(value=head),
        selection_set=SelectionSetNode(selections=(subject_selection(rest),)),
    )


def is_subject_alias(key: str) -> bool:
    """Whether a response key is one of the reserved subject aliases (a client may not use it)."""
    return key.startswith(SUBJECT_ALIAS)


#: the JSON types that hold no identifier: skipped without a further check
_SCALARS = frozenset({int, float, bool, type(None)})


def collect_subjects(data: Any) -> set[str]:
    """Every data-subject identifier fetched under a subject alias in merged subgraph data.

    Walks every object of every response (thousands of keys for a page of residents), so the
    loop is kept lean: exact ``type`` checks for the JSON types the executor builds, with an
    ``isinstance`` fallback so that a value of a subclass is still searched."""
    found: set[str] = set()
    stack = [data]
    pop, push, extend, add = stack.pop, stack.append, stack.extend, found.add
    while stack:
        value = pop()
        if type(value) is not dict:
            if isinstance(value, list):
                extend(value)
                continue
            if not isinstance(value, dict):
                continue
        for key, item in value.items():
            kind = type(item)
            if kind is str:
                if key.startswith(SUBJECT_ALIAS):
                    add(item)
            elif kind is dict or kind is list:
                push(item)
            elif kind not in _SCALARS:
                if isinstance(item, str):
                    if key.startswith(SUBJECT_ALIAS):
                        add(item)
                elif isinstance(item, dict | list):
                    push(item)
    return found
