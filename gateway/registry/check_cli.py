"""``jamajama check``: what a publish would do, without publishing (see ``registry.cli``)."""

from gateway.registry.cli import CheckCommand

add_arguments = CheckCommand.add_arguments
run = CheckCommand.run
