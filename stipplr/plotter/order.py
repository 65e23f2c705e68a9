"""Dot ordering that keeps pen-up travel short: greedy nearest neighbour, then 2-opt.

The pen starts at home, visits every dot and comes back, so a route is a closed tour
through home. Greedy uses a KD-tree over the unvisited dots (rebuilt as they get used
up); 2-opt improves the tour with neighbour lists under a wall-clock budget.
"""

from __future__ import annotations

import math
import time
from collections import deque

import numpy as np
from scipy.spatial import cKDTree

FIRST_K = 8  # neighbours asked of the KD-tree before widening the search
MAX_K = 256  # past this the tree is mostly visited dots: rebuild it over the rest
TWO_OPT_NEIGHBOURS = 8


def route_length(points: np.ndarray, order: np.ndarray, home: np.ndarray) -> float:
    """Length of home -> points[order] -> home, in the points' units."""
    if len(order) == 0:
        return 0.0
    route = np.vstack([home, points[order], home])
    return float(np.hypot(*np.diff(route, axis=0).T).sum())


def greedy_order(points: np.ndarray, home: np.ndarray) -> np.ndarray:
    """Nearest-neighbour route from ``home`` through all ``points`` (N, 2).

    Most steps find the next dot in the current dot's precomputed neighbour list; only
    when all of those are used does it ask a KD-tree of the unvisited dots (rebuilt when
    used dots crowd it).
    """
    n = len(points)
    order = np.empty(n, dtype=np.int64)
    if n == 0:
        return order
    _, near = cKDTree(points).query(points, k=min(FIRST_K + 1, n))
    near = near.reshape(n, -1).tolist()
    flags = bytearray(n)
    visited = np.frombuffer(flags, dtype=bool)  # shares memory with ``flags``
    alive, tree = np.arange(n), cKDTree(points)
    current, position = -1, np.asarray(home, dtype=float)
    for step in range(n):
        chosen = -1
        if current >= 0:
            for j in near[current]:
                if not flags[j]:
                    chosen = j
                    break
        if chosen < 0:
            chosen = _nearest_unvisited(tree, alive, visited, position)
        if chosen < 0:
            alive = np.flatnonzero(~visited)
            tree = cKDTree(points[alive])
            chosen = _nearest_unvisited(tree, alive, visited, position)
        order[step] = current = chosen
        flags[chosen] = 1
        position = points[chosen]
    return order


def _nearest_unvisited(
    tree: cKDTree, alive: np.ndarray, visited: np.ndarray, position: np.ndarray
) -> int:
    """Nearest unvisited dot to ``position`` among the MAX_K nearest in ``tree``, else -1."""
    k = FIRST_K
    while k <= MAX_K:
        _, found = tree.query(position, k=min(k, len(alive)))
        candidates = alive[np.atleast_1d(found)]
        free = candidates[~visited[candidates]]
        if len(free):
            return int(free[0])
        if k >= len(alive):
            break
        k *= 4
    return -1


def _reverse(tour: np.ndarray, pos: np.ndarray, first: int, last: int) -> None:
    """Reverse the cyclic stretch tour[first..last] (or its shorter complement)."""
    m = len(tour)
    length = (last - first) % m + 1
    if 2 * length > m:
        first, last, length = (last + 1) % m, (first - 1) % m, m - length
    index = (first + np.arange(length)) % m
    tour[index] = tour[index[::-1]]
    pos[tour[index]] = index


def two_opt(points: np.ndarray, order: np.ndarray, home: np.ndarray, seconds: float) -> np.ndarray:
    """Improve ``order`` by 2-opt moves between near neighbours until none is left or
    ``seconds`` have passed; returns the new order (home stays the start)."""
    nodes = np.vstack([home, points[order]])
    m = len(nodes)
    if m < 4 or seconds <= 0:
        return order
    deadline = time.perf_counter() + seconds
    _, near = cKDTree(nodes).query(nodes, k=min(TWO_OPT_NEIGHBOURS + 1, m))
    near = near[:, 1:].tolist()
    xs, ys = nodes[:, 0].tolist(), nodes[:, 1].tolist()
    tour, pos = np.arange(m), np.arange(m)

    def dist(a: int, b: int) -> float:
        return math.hypot(xs[a] - xs[b], ys[a] - ys[b])

    queue, queued = deque(range(m)), [True] * m
    checks = 0
    while queue:
        checks += 1
        if checks % 512 == 0 and time.perf_counter() > deadline:
            break
        a = queue.popleft()
        queued[a] = False
        for step in (1, -1):
            i = int(pos[a])
            b = int(tour[(i + step) % m])
            d_ab = dist(a, b)
            move = None
            for c in near[a]:
                d_ac = dist(a, c)
                if d_ac >= d_ab:
                    break  # neighbours come nearest first: no later one can gain
                j = int(pos[c])
                d = int(tour[(j + step) % m])
                if c == b or d == a:
                    continue
                if d_ac + dist(b, d) - d_ab - dist(c, d) < -1e-12:
                    move = (b, c, d)
                    break
            if move is None:
                continue
            b, c, d = move
            if step == 1:  # a b ... c d  ->  a c ... b d
                _reverse(tour, pos, int(pos[b]), int(pos[c]))
            else:  # d c ... b a  ->  d b ... c a
                _reverse(tour, pos, int(pos[c]), int(pos[b]))
            for node in (a, b, c, d):
                if not queued[node]:
                    queue.append(node)
                    queued[node] = True
            break
    start = int(pos[0])
    tour = np.roll(tour, -start)
    return order[tour[1:] - 1]
