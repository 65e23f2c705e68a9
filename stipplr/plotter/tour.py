"""Tour improvement under a wall-clock budget: 2-opt and Or-opt between near neighbours,
then, while time is left, an iterated local search.

A tour is an array of nodes plus each node's position; moves are reversals of the
shorter side, so each costs about the tour distance it spans, not N. When no 2-opt or
Or-opt move (runs of 1-3 nodes) between a node and its :data:`NEIGHBOURS` nearest is
left, random local kicks (two neighbouring stretches of up to :data:`KICK` nodes swap
places) are each followed by the same local search from the nodes they touched, and
undone unless the tour got shorter.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque

import numpy as np
from scipy.spatial import cKDTree

NEIGHBOURS = 8  # candidate partners per node in 2-opt and Or-opt
OR_OPT_LENGTHS = (1, 2, 3)
KICK = 30  # longest stretch a kick moves
SEED = 0  # kicks are random but repeatable
LONG_EDGES = 0.03  # repair: the share of greedy's jumps, longest first, to repair around
REPAIR_SECONDS = 2e-5  # repair: time budget per dot (1 s for 50 000 dots)


class _Tour:
    """A closed tour as an array plus each node's position, with 2-opt and Or-opt moves
    tried between a node and its nearest neighbours."""

    def __init__(self, nodes: np.ndarray) -> None:
        m = len(nodes)
        _, near = cKDTree(nodes).query(nodes, k=min(NEIGHBOURS + 1, m))
        self.near = near[:, 1:].tolist()
        self.xs, self.ys = nodes[:, 0].tolist(), nodes[:, 1].tolist()
        self.tour, self.pos, self.m = np.arange(m), np.arange(m), m
        self.flipped = False
        self.gain = 0.0  # length the moves since the last reset saved
        self.log: list[tuple[int, int]] | None = None  # reversals to undo, when logging

    def dist(self, a: int, b: int) -> float:
        """Distance between nodes ``a`` and ``b``."""
        return math.hypot(self.xs[a] - self.xs[b], self.ys[a] - self.ys[b])

    def next(self, a: int, step: int = 1) -> int:
        """The node ``step`` places after ``a`` (before it when negative)."""
        return int(self.tour[(self.pos[a] + step) % self.m])

    def reverse(self, first: int, last: int) -> None:
        """Reverse the cyclic stretch tour[first..last] (or its shorter complement)."""
        m = self.m
        if self.log is not None:
            self.log.append((first, last))
        length = (last - first) % m + 1
        if 2 * length > m:
            first, last, length = (last + 1) % m, (first - 1) % m, m - length
            self.flipped = not self.flipped  # the tour now reads backwards
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
                gain = d_ab + self.dist(c, d) - d_ac - self.dist(b, d)
                if c == b or d == a or gain < 1e-12:
                    continue
                self.gain += gain
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
                        self.gain += gain - added
                        self._move(segment, c, d, after=step == 1)
                        return (p, n, c, d, *segment)
        return None

    def _block(self, x: int, y: int) -> None:
        """Reverse the stretch from node ``x`` to node ``y`` in the move's direction."""
        if self.flipped:
            x, y = y, x
        self.reverse(int(self.pos[x]), int(self.pos[y]))

    def _move(self, segment: list[int], c: int, d: int, after: bool) -> None:
        """Move ``segment`` (a..s, forwards) between neighbours c and d: as c a..s d when
        ``after`` (d follows c), else as d s..a c; by two or three reversals over the
        shorter side of the tour."""
        a, s = segment[0], segment[-1]
        p, n, m = self.next(a, -1), self.next(s), self.m
        self.flipped = False
        if after:  # p S [n..c] d  ->  p [n..c] S d
            if (self.pos[c] - self.pos[n]) % m <= (self.pos[p] - self.pos[d]) % m:
                self._block(a, c), self._block(c, n), self._block(s, a)
            else:  # c [d..p] S n  ->  c S [d..p] n
                self._block(d, s), self._block(p, d), self._block(s, a)
        elif (self.pos[d] - self.pos[n]) % m <= (self.pos[p] - self.pos[c]) % m:
            self._block(a, d), self._block(d, n)  # p S [n..d] c  ->  p [n..d] S^r c
        else:
            self._block(c, s), self._block(p, c)  # d [c..p] S n  ->  d S^r [c..p] n

    def kick(self, rng: random.Random) -> tuple[float, tuple[int, ...]]:
        """Swap two neighbouring stretches after a random node (a double bridge within a
        window): the length it added and the nodes at its six edge ends."""
        m = self.m
        first, second = rng.randint(1, KICK), rng.randint(1, KICK)
        start = rng.randrange(m)
        at = [(start + k) % m for k in (0, 1, first, first + 1, first + second, first + second + 1)]
        a, b1, b2, c1, c2, d = (int(self.tour[i]) for i in at)
        added = (
            self.dist(a, c1)
            + self.dist(c2, b1)
            + self.dist(b2, d)
            - self.dist(a, b1)
            - self.dist(b2, c1)
            - self.dist(c2, d)
        )
        self.reverse(at[1], at[4])  # a B C d -> a C^r B^r d
        self.reverse(at[1], (at[1] + second - 1) % m)  # -> a C B^r d
        self.reverse((at[1] + second) % m, at[4])  # -> a C B d
        return added, (a, b1, b2, c1, c2, d)

    def settle(self, queue: deque, queued: list[bool], deadline: float) -> bool:
        """2-opt and Or-opt from the queued nodes until none gains; False at the deadline."""
        checks = 0
        while queue:
            checks += 1
            if checks % 256 == 0 and time.perf_counter() > deadline:
                return False
            a = queue.popleft()
            queued[a] = False
            touched = self.two_opt(a) or self.or_opt(a)
            for node in touched or ():
                if not queued[node]:
                    queue.append(node)
                    queued[node] = True
        return True

    def search(self, deadline: float) -> None:
        """Kicks, each settled and undone unless the tour got shorter, until the deadline."""
        rng, queued = random.Random(SEED), [False] * self.m
        while self.m > 2 * KICK + 4 and time.perf_counter() < deadline:
            self.log, self.gain = [], 0.0
            added, touched = self.kick(rng)
            queue = deque(touched)
            for node in touched:
                queued[node] = True
            done = self.settle(queue, queued, deadline)
            if not done or self.gain - added < 1e-9:
                for first, last in reversed(self.log):
                    self.reverse(first, last)  # each reversal undoes itself
                for node in queue:
                    queued[node] = False
                queue.clear()
            self.log = None


def improve_route(
    points: np.ndarray,
    order: np.ndarray,
    home: np.ndarray,
    seconds: float,
    focus: np.ndarray | None = None,
) -> np.ndarray:
    """Improve ``order`` by 2-opt and Or-opt moves between near neighbours, then by kicks,
    until ``seconds`` have passed; returns the new order (home stays the start).

    With ``focus`` (indices into ``order``'s positions), the local search starts from
    those nodes only and no kicks follow: a quick repair of a few bad stretches."""
    nodes = np.vstack([home, points[order]])
    if len(nodes) < 5 or seconds <= 0:
        return order
    deadline = time.perf_counter() + seconds
    tour = _Tour(nodes)
    start = range(len(nodes)) if focus is None else (np.asarray(focus) + 1).tolist()
    queue, queued = deque(start), [focus is None] * len(nodes)
    for node in queue:
        queued[node] = True
    if tour.settle(queue, queued, deadline) and focus is None:
        tour.search(deadline)
    route = np.roll(tour.tour, -int(tour.pos[0]))
    return order[route[1:] - 1]


def repair(points: np.ndarray, order: np.ndarray, home: np.ndarray) -> np.ndarray:
    """Greedy's quick fix: local search from both ends of its :data:`LONG_EDGES` longest
    jumps (where it ran out of near dots), for at most ``REPAIR_SECONDS`` per dot."""
    n = len(order)
    if n < 5:
        return order
    route = np.vstack([home, points[order], home])
    jumps = np.hypot(*np.diff(route, axis=0).T)[1:-1]  # jump i: order[i] -> order[i + 1]
    count = max(1, int(LONG_EDGES * n))
    longest = np.argpartition(jumps, -count)[-count:] if count < len(jumps) else np.arange(n - 1)
    focus = np.unique(np.concatenate([longest, longest + 1]))
    return improve_route(points, order, home, REPAIR_SECONDS * n + 0.05, focus)
