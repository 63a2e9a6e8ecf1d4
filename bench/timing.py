"""The one timer the benchmarks share: the median wall-clock seconds of repeated calls."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(func: Callable[[], object], repeat: int, warm_up: bool = False) -> float:
    """Median of `repeat` timed calls; `warm_up` makes one untimed call first (caches, lazy imports)."""
    if warm_up:
        func()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
