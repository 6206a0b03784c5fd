"""Operation limits: size, parser tokens, depth, aliases, root fields, directives and cost.

Checked once per distinct document (the engine caches the outcome with the parsed document), so a
request for a known document pays nothing for them.
"""

from gateway.limits.checks import OperationLimits
from gateway.limits.config import CostSection, LimitsSection

__all__ = ["CostSection", "LimitsSection", "OperationLimits"]
