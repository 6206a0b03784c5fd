"""What the planner's trials compare: the cost of a (partial) plan, and how many trials it may run.

Where the planner must choose between alternatives it cannot rank exactly by looking (the
subgraph of a root field served by several, the target subgraph of a key jump whose estimates
are close), it plans the root field once per alternative and keeps the cheapest plan: fewest
fetches, then the shortest sequence of dependent fetches, then the fewest fields asked. The same
cost ranks root-field trials and jump-target trials. Trials are bounded per operation so that a
wide operation cannot multiply planning time; past the budget the estimate decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

#: the cost of an alternative that cannot be planned at all
UNPLANNABLE = (1 << 30, 0, 0)
#: jump-target trials per operation (each plans one root field once more)
MAX_JUMP_TRIALS = 12
#: a jump target is tried when its estimate is within this many fetches of the best estimate
TRIAL_MARGIN = 1

Cost = tuple[int, int, int]


class _Group(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def selections(self) -> Sequence[object]: ...
    @property
    def parents(self) -> Sequence[_Group]: ...


def plan_cost(groups: Iterable[_Group], size: int, reuses_root: bool) -> Cost:
    """(fetches, sequence depth, fields asked) of the non-empty ``groups`` of a trial plan.

    ``size``: the fields they ask. ``reuses_root``: the plan's root fetch is one the operation
    already sends (another root field of it), so it costs no fetch.
    """
    live = [g for g in groups if g.selections]
    depths: dict[int, int] = {}

    def depth(group: _Group) -> int:
        if group.id not in depths:
            depths[group.id] = 0
            depths[group.id] = 1 + max((depth(p) for p in group.parents), default=0)
        return depths[group.id]

    deepest = max((depth(g) for g in live), default=0)
    return (len(live) - (1 if reuses_root else 0), deepest, size)


@dataclass
class TrialBudget:
    """Jump-target trials left for one operation (shared by the planner and its trials)."""

    left: int = MAX_JUMP_TRIALS

    def take(self, trials: int) -> bool:
        if trials > self.left:
            return False
        self.left -= trials
        return True
