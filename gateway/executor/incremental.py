"""The deferred parts of an incremental response, each sent as soon as its own operation is done.

An operation with active ``@defer`` fragments is cut into one operation per part
(gateway/planner/defer.py ``deferred_documents``). ``DeferredParts`` starts every fragment's
operation at once, next to the primary one (one planned as entity fetches on the primary's
objects waits for those: gateway/engine.py), so a slow subgraph behind a deferred fragment never
delays the primary part; the engine runs the primary itself and, once it is released, iterates
``parts()``. A fragment's part is yielded when its operation has finished and the part of the
fragment enclosing it has been sent (nested defers after their parent), in the order the
operations finished (as Hive Gateway sends sibling fragments: tests/defer/cases/siblings).
``run_part`` is the engine's request pipeline for one part: it plans, authorizes, executes and
shapes at once, and hands back the release (mask, audit) that ``parts()`` calls only when the
part is about to be yielded, so each part's audit record is written before it is sent and never
for a part that is not; the released response is cut into ``incremental`` entries
(gateway/executor/defer.py). A failure in one part's operation degrades that part only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

from gateway.executor.defer import has_targets, incremental_entries
from gateway.planner.defer import DeferredDocuments, DeferredOperation

#: runs fragment ``index``'s operation; what it returns releases the response (mask, audit)
RunPart = Callable[[int], Awaitable[Callable[[], Awaitable[dict[str, Any]]]]]


class DeferredParts:
    """The running operations of one request's active deferred fragments."""

    def __init__(
        self,
        operation: DeferredOperation,
        documents: DeferredDocuments,
        variables: Mapping[str, Any],
        run_part: RunPart,
    ) -> None:
        self._operation = operation
        self._parents = documents.parents
        self._variables = variables
        self._tasks: dict[int, asyncio.Task[Callable[[], Awaitable[dict[str, Any]]]]] = {
            index: asyncio.ensure_future(run_part(index)) for index in documents.fragments
        }
        #: fragments in the order their operations finished (the order their parts go out)
        self._finished: list[int] = []
        for index, task in self._tasks.items():
            task.add_done_callback(self._on_finish(index))

    def _on_finish(self, index: int) -> Callable[[asyncio.Task[Any]], None]:
        return lambda _: self._finished.append(index)

    def applies_to(self, primary_data: Any) -> bool:
        """Whether any fragment the primary part encloses has an object to apply to in it
        (else nothing will follow: the primary part is the whole answer)."""
        return any(
            has_targets(self._operation, index, primary_data)
            for index, parent in self._parents.items()
            if parent is None
        )

    def cancel(self) -> None:
        """Stop the operations still running (the primary failed, or the client left)."""
        for task in self._tasks.values():
            task.cancel()

    async def parts(self) -> AsyncGenerator[dict[str, Any], None]:
        """The subsequent parts, in the order they can be sent; the last has ``hasNext: false``
        (alone when the last fragment had nothing to send)."""
        sent: set[int | None] = {None}
        waiting = dict(self._tasks)
        try:
            while waiting:
                # done tasks whose callback has not run yet come after the ones noted
                finished = self._finished + [
                    i for i, t in waiting.items() if t.done() and i not in self._finished
                ]
                ready = [i for i in finished if i in waiting and self._parents[i] in sent]
                if not ready:
                    running = {t for t in waiting.values() if not t.done()}
                    if not running:  # unreachable: a parent is always in ``waiting`` or sent
                        raise RuntimeError("deferred parts wait on a parent that never ran")
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    continue
                index = ready[0]
                response = await waiting.pop(index).result()()  # released now: audited
                sent.add(index)
                entries = incremental_entries(self._operation, index, response, self._variables)
                if entries:
                    yield {"incremental": entries, "hasNext": bool(waiting)}
                elif not waiting:
                    yield {"hasNext": False}
        finally:
            self.cancel()
