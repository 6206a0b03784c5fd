"""Reading a connector subgraph's SDL into the model: ``@link`` to the connect spec, ``@source``,
``@connect`` (renamed imports honoured). Every argument is parsed here (templates, selections), so
a bad one fails when the schema is loaded, with a coded problem naming the connector; the schema
rules (do the arguments and fields exist, do selections fit the types) are in ``validate``.
"""

from __future__ import annotations

from typing import Any

from graphql.language import ConstDirectiveNode

from .mapping import Selection, SelectionSyntaxError, parse_selection
from .model import VERBS, Connector, ConnectorSubgraph, ErrorsSpec, FieldType, HeaderMapping, Source
from .problems import VERSION_UNSUPPORTED, ConnectorSchemaError, Problem
from .schema import SUPPORTED_VERSIONS, SchemaInfo, directive_args, field_type, schema_info
from .template import Template, TemplateError, parse_template
from .validate import validate


class _Reader:
    def __init__(self, subgraph: str, info: SchemaInfo) -> None:
        self.subgraph = subgraph
        self.info = info
        self.problems: list[Problem] = []

    def problem(self, code: str, message: str, coordinate: str = "") -> None:
        self.problems.append(Problem(code, message, coordinate))

    def selection(self, text: Any, where: str, what: str) -> Selection | None:
        if text is None:
            return None
        try:
            return parse_selection(str(text), self.info.version)
        except SelectionSyntaxError as error:
            self.problem(error.code, f"{what}: {error.message}", where)
            return None

    def template(self, text: Any, where: str, what: str) -> Template | None:
        try:
            return parse_template(str(text), self.info.version)
        except TemplateError as error:
            self.problem(error.code, f"{what}: {error.message}", where)
            return None

    def headers(self, raw: Any, where: str) -> tuple[HeaderMapping, ...]:
        out: list[HeaderMapping] = []
        for item in raw or ():
            if not isinstance(item, dict) or "name" not in item:
                self.problem("CONNECTOR_HEADER_INVALID", "a header mapping needs a name", where)
                continue
            name = str(item["name"])
            value = item.get("value")
            template = None if value is None else self.template(value, where, f"header {name}")
            from_ = item.get("from")
            out.append(HeaderMapping(name, None if from_ is None else str(from_), template))
            if (from_ is None) == (value is None):
                self.problem(
                    "CONNECTOR_HEADER_INVALID",
                    f"header {name!r} needs exactly one of 'from' and 'value'",
                    where,
                )
        return tuple(out)

    def errors(self, raw: Any, where: str) -> ErrorsSpec:
        raw = raw or {}
        return ErrorsSpec(
            self.selection(raw.get("message"), where, "errors.message"),
            self.selection(raw.get("extensions"), where, "errors.extensions"),
        )

    def sources(self) -> dict[str, Source]:
        sources: dict[str, Source] = {}
        for directive in self.info.schema_directives:
            if directive.name.value != self.info.source_name:
                continue
            args = directive_args(directive)
            name = str(args.get("name", ""))
            where = f"{self.subgraph}:@source({name})"
            http = args.get("http") or {}
            base = self.template(http.get("baseURL", ""), where, "baseURL")
            if name in sources:
                self.problem("CONNECTOR_SOURCE_INVALID", f"duplicate source {name!r}", where)
            if base is None:
                continue
            sources[name] = Source(
                name=name,
                base_url=base,
                headers=self.headers(http.get("headers"), where),
                path=self.selection(http.get("path"), where, "http.path"),
                query_params=self.selection(http.get("queryParams"), where, "http.queryParams"),
                errors=self.errors(args.get("errors"), where),
                is_success=self.selection(args.get("isSuccess"), where, "isSuccess"),
            )
        return sources

    def connectors(self) -> list[Connector]:
        found: list[Connector] = []
        for type_ in self.info.types.values():
            connects = [d for d in type_.directives if d.name.value == self.info.connect_name]
            for index, directive in enumerate(connects):
                connector = self.connector(
                    directive, type_.name, None, index, FieldType(type_.name), ()
                )
                if connector is not None:
                    found.append(connector)
            for name, node in type_.fields.items():
                connects = [
                    d for d in node.directives or () if d.name.value == self.info.connect_name
                ]
                for index, directive in enumerate(connects):
                    arguments = tuple(a.name.value for a in node.arguments or ())
                    connector = self.connector(
                        directive, type_.name, name, index, field_type(node.type), arguments
                    )
                    if connector is not None:
                        found.append(connector)
        return found

    def connector(
        self,
        directive: ConstDirectiveNode,
        parent: str,
        field_name: str | None,
        index: int,
        returns: FieldType,
        arguments: tuple[str, ...],
    ) -> Connector | None:
        where_name = parent if field_name is None else f"{parent}.{field_name}"
        where = f"{self.subgraph}:{where_name}[{index}]"
        args = directive_args(directive)
        http = args.get("http") or {}
        verbs = [verb for verb in VERBS if http.get(verb) is not None]
        if len(verbs) != 1:
            self.problem(
                "CONNECTOR_HTTP_METHOD",
                f"http must set exactly one of {', '.join(VERBS)} (found {len(verbs)})",
                where,
            )
            return None
        url = self.template(http[verbs[0]], where, f"http.{verbs[0]}")
        selection = self.selection(args.get("selection"), where, "selection")
        if args.get("selection") is None:
            self.problem("CONNECTOR_SELECTION_MISSING", "a connector needs a selection", where)
        batch = args.get("batch") or {}
        if url is None or selection is None:
            return None
        return Connector(
            subgraph=self.subgraph,
            parent_type=parent,
            field=field_name,
            index=index,
            method=verbs[0],
            url=url,
            selection=selection,
            version=self.info.version,
            returns=returns,
            source=None if args.get("source") is None else str(args["source"]),
            headers=self.headers(http.get("headers"), where),
            body=self.selection(http.get("body"), where, "http.body"),
            path=self.selection(http.get("path"), where, "http.path"),
            query_params=self.selection(http.get("queryParams"), where, "http.queryParams"),
            entity=bool(args.get("entity", False)),
            batch_max_size=batch.get("maxSize"),
            errors=self.errors(args.get("errors"), where),
            is_success=self.selection(args.get("isSuccess"), where, "isSuccess"),
            id=None if args.get("id") is None else str(args["id"]),
            arguments=arguments,
        )


def read_connectors(subgraph: str, sdl: str) -> ConnectorSubgraph | None:
    """The connectors of ``sdl`` (None if it does not link the connect spec).

    Raises :class:`ConnectorSchemaError` listing every problem (parse and schema rules).
    """
    info = schema_info(sdl)
    if info is None:
        return None
    if info.version not in SUPPORTED_VERSIONS:
        major, minor = info.version
        raise ConnectorSchemaError(
            subgraph,
            [Problem(VERSION_UNSUPPORTED, f"connect v{major}.{minor} is not supported "
                     "(v0.1, v0.2 and the v0.3 syntax and methods are)")],
        )  # fmt: skip
    return build_model(subgraph, info)


def build_model(subgraph: str, info: SchemaInfo) -> ConnectorSubgraph:
    """Read and validate the connectors of one subgraph (from its SDL or from a supergraph)."""
    reader = _Reader(subgraph, info)
    model = ConnectorSubgraph(subgraph, info.version, reader.sources(), tuple(reader.connectors()))
    problems = reader.problems + validate(model, info)
    if problems:
        raise ConnectorSchemaError(subgraph, problems)
    return model
