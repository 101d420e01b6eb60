"""Non-dominated points (all objectives minimised), vectorised with numpy."""

import numpy as np

CHUNK = 512


def front(points) -> np.ndarray:
    """Boolean mask of the Pareto frontier of `points` (n × k): a point is on it when no other
    point is at most as large in every objective and smaller in one. NaN counts as +inf;
    duplicates of a frontier point are all kept."""
    p = np.asarray(points, dtype=np.float64)
    p = np.where(np.isnan(p), np.inf, p)
    n = len(p)
    dominated = np.zeros(n, dtype=bool)
    for start in range(0, n, CHUNK):
        block = p[start : start + CHUNK]  # candidates that might be dominated
        no_worse = (p[None, :, :] <= block[:, None, :]).all(axis=2)
        better = (p[None, :, :] < block[:, None, :]).any(axis=2)
        dominated[start : start + CHUNK] = (no_worse & better).any(axis=1)
    return ~dominated
