"""The one timer the benchmarks share: the median wall-clock seconds of repeated calls."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(func: Callable[[], object], repeat: int, warm_up: bool = False,
                   clock: Callable[[], float] = time.perf_counter) -> float:
    """Median of `repeat` timed calls; `warm_up` makes one untimed call first (caches, lazy imports); `clock` may
    be `time.process_time` for this process's CPU seconds, steadier than wall-clock on a shared machine."""
    if warm_up:
        func()
    samples = []
    for _ in range(repeat):
        start = clock()
        func()
        samples.append(clock() - start)
    return statistics.median(samples)
