"""The client operation, walked once: fragments resolved, ``@skip``/``@include`` decided.

``walk.py`` is the walk (document mode and request mode); ``conditions.py`` reads the conditions;
``introspection.py`` reduces an operation to what graphql-core answers from the schema.
"""

from gateway.operation.conditions import Condition, Conditions, condition_variables
from gateway.operation.walk import (
    INTROSPECTION_FIELDS,
    Field,
    Fragment,
    OperationWalk,
    Selection,
    fragment_definitions,
)

__all__ = [
    "INTROSPECTION_FIELDS",
    "Condition",
    "Conditions",
    "Field",
    "Fragment",
    "OperationWalk",
    "Selection",
    "condition_variables",
    "fragment_definitions",
]
