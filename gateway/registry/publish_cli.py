"""``jamajama publish``: an OPD publishes its subgraph to the registry (see ``registry.cli``)."""

from gateway.registry.cli import PublishCommand

add_arguments = PublishCommand.add_arguments
run = PublishCommand.run
