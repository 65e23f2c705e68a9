"""Dot ordering that keeps pen-up travel short: greedy nearest neighbour, then 2-opt/Or-opt.

The pen starts at home, visits every dot and comes back, so a route is a closed tour
through home. Greedy uses a KD-tree over the unvisited dots (rebuilt as they get used
up); 2-opt and Or-opt (moving runs of 1-3 dots) improve the tour with neighbour lists
under a wall-clock budget.
"""

from __future__ import annotations

import math
import time
from collections import deque

import numpy as np
from scipy.spatial import cKDTree

FIRST_K = 8  # neighbours asked of the KD-tree before widening the search
MAX_K = 256  # past this the tree is mostly visited dots: rebuild it over the rest
NEIGHBOURS = 8  # candidate partners per node in 2-opt and Or-opt
OR_OPT_LENGTHS = (1, 2, 3)


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


class _Tour:
    """A closed tour as an array plus each node's position, with 2-opt and Or-opt moves
    tried between a node and its nearest neighbours."""

    def __init__(self, nodes: np.ndarray) -> None:
        m = len(nodes)
        _, near = cKDTree(nodes).query(nodes, k=min(NEIGHBOURS + 1, m))
        self.near = near[:, 1:].tolist()
        self.xs, self.ys = nodes[:, 0].tolist(), nodes[:, 1].tolist()
        self.tour, self.pos, self.m = np.arange(m), np.arange(m), m

    def dist(self, a: int, b: int) -> float:
        """Distance between nodes ``a`` and ``b``."""
        return math.hypot(self.xs[a] - self.xs[b], self.ys[a] - self.ys[b])

    def next(self, a: int, step: int = 1) -> int:
        """The node ``step`` places after ``a`` (before it when negative)."""
        return int(self.tour[(self.pos[a] + step) % self.m])

    def reverse(self, first: int, last: int) -> None:
        """Reverse the cyclic stretch tour[first..last] (or its shorter complement)."""
        m = self.m
        length = (last - first) % m + 1
        if 2 * length > m:
            first, last, length = (last + 1) % m, (first - 1) % m, m - length
        index = (first + np.arange(length)) % m
        self.tour[index] = self.tour[index[::-1]]
        self.pos[self.tour[index]] = index

    def two_opt(self, a: int) -> tuple[int, ...] | None:
        """Replace edges (a, b), (c, d) by (a, c), (b, d) if shorter; the nodes touched."""
        for step in (1, -1):
            b = self.next(a, step)
            d_ab = self.dist(a, b)
            for c in self.near[a]:
                d_ac = self.dist(a, c)
                if d_ac >= d_ab:
                    break  # neighbours come nearest first: no later one can gain
                d = self.next(c, step)
                if c == b or d == a or d_ac + self.dist(b, d) - d_ab - self.dist(c, d) > -1e-12:
                    continue
                if step == 1:  # a b ... c d  ->  a c ... b d
                    self.reverse(int(self.pos[b]), int(self.pos[c]))
                else:  # d c ... b a  ->  d b ... c a
                    self.reverse(int(self.pos[c]), int(self.pos[b]))
                return (a, b, c, d)
        return None

    def or_opt(self, a: int) -> tuple[int, ...] | None:
        """Move the 1-3 nodes starting at ``a`` next to a neighbour of ``a`` if shorter."""
        for length in OR_OPT_LENGTHS:
            segment = [self.next(a, k) for k in range(length)]
            p, n = self.next(a, -1), self.next(segment[-1])
            if n in segment or p in segment:
                return None
            gain = self.dist(p, a) + self.dist(segment[-1], n) - self.dist(p, n)
            for c in self.near[a]:
                if self.dist(c, a) >= gain:
                    break  # nearest first: inserting next to any later one costs more
                if c in segment:
                    continue
                for step in (1, -1):  # insert as c, a..s, d  or as  d, s..a, c
                    d = self.next(c, step)
                    if d in segment:
                        continue
                    added = self.dist(c, a) + self.dist(segment[-1], d) - self.dist(c, d)
                    if added < gain - 1e-12:
                        self._move(segment, c, after=step == 1)
                        return (p, n, c, d, *segment)
        return None

    def _move(self, segment: list[int], c: int, after: bool) -> None:
        """Cut ``segment`` out and put it back after ``c`` as is, or before ``c`` reversed."""
        rest = np.roll(self.tour, -int(self.pos[segment[-1]]) - 1)[: self.m - len(segment)]
        at = int(np.flatnonzero(rest == c)[0]) + (1 if after else 0)
        piece = np.array(segment if after else segment[::-1])
        self.tour = np.concatenate([rest[:at], piece, rest[at:]])
        self.pos[self.tour] = np.arange(self.m)


def improve_route(
    points: np.ndarray, order: np.ndarray, home: np.ndarray, seconds: float
) -> np.ndarray:
    """Improve ``order`` by 2-opt and Or-opt moves between near neighbours until none is
    left or ``seconds`` have passed; returns the new order (home stays the start)."""
    nodes = np.vstack([home, points[order]])
    if len(nodes) < 5 or seconds <= 0:
        return order
    deadline = time.perf_counter() + seconds
    tour = _Tour(nodes)
    queue, queued = deque(range(len(nodes))), [True] * len(nodes)
    checks = 0
    while queue:
        checks += 1
        if checks % 256 == 0 and time.perf_counter() > deadline:
            break
        a = queue.popleft()
        queued[a] = False
        touched = tour.two_opt(a) or tour.or_opt(a)
        for node in touched or ():
            if not queued[node]:
                queue.append(node)
                queued[node] = True
    route = np.roll(tour.tour, -int(tour.pos[0]))
    return order[route[1:] - 1]
