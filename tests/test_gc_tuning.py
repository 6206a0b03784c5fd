"""The gateway process freezes its start-up objects and raises the GC thresholds."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gateway.gc_tuning import THRESHOLDS, tune_garbage_collector


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restore_gc")
def test_tuning_freezes_existing_objects_and_raises_thresholds() -> None:
    gc.unfreeze()
    tune_garbage_collector()
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 1000  # the interpreter and test session objects, at least
    assert gc.isenabled()  # cycles are still collected, only less often
