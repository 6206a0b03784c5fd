"""The `jamajama` command line.

Each sub-command lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; this module only maps names to modules, imported lazily so that
`jamajama --help` stays fast and a
command's dependencies are loaded only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import Protocol, cast

#: command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "subgraph": ("subgraphs.serve", "serve one OPD subgraph (`jamajama subgraph serve NAME`)"),
    "rest": ("subgraphs.rest.serve", "serve one REST OPD (`jamajama rest serve NAME`)"),
    "schema": ("subgraphs.export", "write or check the subgraph SDL files in schema/"),
    "dev": ("gateway.dev", "start every OPD subgraph and the gateway on embedded defaults"),
    "gateway": ("gateway.serve", "serve the federation gateway over HTTP"),
    "plan": ("gateway.planner.cli", "print the query plan of an operation"),
    "token": ("gateway.auth.cli", "development tokens for the demo consumer applications"),
    "audit": ("gateway.audit.cli", "verify the audit log; who accessed a resident's data"),
    "compose": ("gateway.composition.cli", "compose subgraph SDLs (files or URLs) to a supergraph"),
    "registry": ("gateway.registry.cli", "the schema registry: serve, list, fetch, rollback"),
    "publish": ("gateway.registry.publish_cli", "publish an OPD's subgraph to the registry"),
    "check": ("gateway.registry.check_cli", "check what publishing a subgraph would do"),
    "migrate": ("gateway.migrations.cli", "bring the stores' schemas up to date (migrations)"),
    "portal": ("gateway.portal.cli", "serve the SPLP portal (dashboard, catalogue, operator)"),
}


#: command name -> (extra, a module that extra installs): the demo data generator is not part of
#: the runtime dependencies (nor of the production image)
NEEDS_EXTRA: dict[str, tuple[str, str]] = {
    "subgraph": ("demo", "faker"),
    "rest": ("demo", "faker"),
    "dev": ("demo", "faker"),
}


def missing_extra(command: str) -> str | None:
    """The error message when ``command`` needs an extra that is not installed, else None."""
    needed = NEEDS_EXTRA.get(command)
    if needed is None or importlib.util.find_spec(needed[1]) is not None:
        return None
    extra, module = needed
    return (
        f"jamajama {command} needs the '{extra}' extra ({module} is not installed): "
        f"pip install 'jamajama[{extra}]' (a development install, '.[dev]', includes it)"
    )


class CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(module_name: str) -> CommandModule:
    return cast(CommandModule, importlib.import_module(module_name))


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jamajama", description="Jama Jama: Lampung's GraphQL federation data-sharing layer."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        # Only the chosen command's module is imported; the others are listed by name.
        if name == wanted:
            module = _load(module_name)
            module.add_arguments(command_parser)
            command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    problem = missing_extra(command) if command is not None else None
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    run = args._run
    try:
        return int(run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The output was piped into a reader that stopped early (`| head`): not an error. Point
        # stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
