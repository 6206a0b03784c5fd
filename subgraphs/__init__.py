"""The OPD subgraphs of Lampung province, each a small Strawberry federation service."""
