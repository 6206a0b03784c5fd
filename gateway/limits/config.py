"""The ``[limits]`` configuration section: defaults protect the service, configuration loosens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.sections import Section


class CostSection(Section):
    """Static cost from ``@cost``/``@listSize`` (IBM GraphQL Cost spec, Apollo demand control)."""

    #: ``enforce`` refuses operations above ``max``; ``measure`` only counts them; ``off`` skips
    mode: Literal["enforce", "measure", "off"] = "enforce"
    max: int = Field(default=50_000, ge=1)
    #: assumed length of a list field without ``@listSize`` or a usable slicing argument
    default_list_size: int = Field(default=10, ge=1)


class LimitsSection(Section):
    """Limits on one GraphQL document; ``0`` switches a limit off."""

    #: characters of the query text
    max_query_length: int = Field(default=50_000, ge=0)
    #: lexical tokens the parser reads before giving up (punctuators, names, values)
    max_tokens: int = Field(default=15_000, ge=0)
    #: nesting of selection sets (fragments expanded); the root fields are at depth 1
    max_depth: int = Field(default=15, ge=0)
    #: aliased fields per operation, fragments expanded
    max_aliases: int = Field(default=30, ge=0)
    #: fields in an operation's root selection set, fragments expanded
    max_root_fields: int = Field(default=20, ge=0)
    #: directive applications per operation, fragments expanded
    max_directives: int = Field(default=50, ge=0)
    cost: CostSection = CostSection()
