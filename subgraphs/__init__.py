"""The OPD subgraphs of Lampung province, each a small Strawberry federation service.

:data:`SUBGRAPHS` is the list everything else starts from (``jamajama subgraph serve``,
``jamajama schema``, ``jamajama dev``): name -> (module, default port). Adding an OPD means adding
its module here. This file stays import-light (no Strawberry) so tools can read it cheaply.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from subgraphs.kit.app import Subgraph

#: name -> (module, default port), in start order.
SUBGRAPHS: dict[str, tuple[str, int]] = {
    "wilayah": ("subgraphs.wilayah", 4001),
    "kependudukan": ("subgraphs.kependudukan", 4002),
    "kesehatan": ("subgraphs.kesehatan", 4003),
    "pendidikan": ("subgraphs.pendidikan", 4004),
    "sosial": ("subgraphs.sosial", 4005),
}


def load_subgraph(name: str) -> Subgraph:
    """Import one subgraph module and return its ``SUBGRAPH``."""
    module_name, _ = SUBGRAPHS[name]
    subgraph: Subgraph = importlib.import_module(module_name).SUBGRAPH
    return subgraph
