"""Weighted max-min fair filling under linear capacity constraints (vectorised).

Each item ``i`` gets ``x_i = clip(level · w_i, lo_i, hi_i)``; the level rises until some
constraint is full; the items in full constraints are frozen at that level and the others
go on rising (several independent constraints are settled in one round). That is
progressive filling: the result is the weighted max-min fair point of the feasible set.
Constraints are rows of a sparse matrix given as triplets (row, item, coefficient), so
one item may weigh on several rows (three phases of several nodes of the tree) with
different coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Constraints", "fill"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

_BISECT_STEPS = 22  # then one linear step lands on the exact level (see _linear_finish)
_EPS = 1e-9


@dataclass(frozen=True)
class Constraints:
    """Rows ``Σ coef · x[item] ≤ capacity[row]`` as triplets."""

    row: Ints
    item: Ints
    coef: Floats
    capacity: Floats

    def load(self, x: Floats) -> Floats:
        out: Floats = np.bincount(self.row, weights=self.coef * x[self.item],
                                  minlength=len(self.capacity)).astype(np.float64)
        return out


def _linear_finish(lam_lo: Floats, lam_hi: Floats, e_row: Ints, e_w: Floats, e_lo: Floats,
                   e_hi: Floats, e_coef: Floats, limit: Floats) -> Floats:
    """Jump from the bracket's feasible end to where the row is exactly full.

    A row's load is piecewise linear in the level; once the bracket is narrow it usually
    holds no breakpoint, so one linear step is exact. The step is kept only where it is
    still feasible; elsewhere the bisection's feasible end stands.
    """
    nrows = len(limit)
    level = lam_lo[e_row] * e_w
    x = np.minimum(np.maximum(level, e_lo), e_hi)
    load = np.bincount(e_row, weights=e_coef * x, minlength=nrows)
    rising = (level > e_lo) & (level < e_hi)
    slope = np.bincount(e_row, weights=np.where(rising, e_coef * e_w, 0.0), minlength=nrows)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(slope > 0, (limit - load) / slope, 0.0)
    guess = np.minimum(lam_lo + np.maximum(step, 0.0), lam_hi)
    x2 = np.minimum(np.maximum(guess[e_row] * e_w, e_lo), e_hi)
    # Float sums of many items land a hair above an exactly full row: 1e-9 A is noise
    # (outputs are rounded down to 0.1 A), not an overload, and refusing it would leave
    # the bisection's 1e-5 A short, which rounding down turns into 0.1 A lost per car.
    ok = np.bincount(e_row, weights=e_coef * x2, minlength=nrows) <= limit + 1e-9
    result: Floats = np.where(ok, guess, lam_lo)
    return result


def fill(lo: Floats, hi: Floats, weight: Floats, cons: Constraints) -> Floats:
    """Return the weighted max-min fair ``x`` with ``lo ≤ x ≤ hi`` and every row respected.

    ``x = lo`` must be feasible (the caller selects who gets a minimum). Results are
    slightly on the safe side of each constraint, never beyond it.
    """
    n = len(lo)
    x = lo.copy()
    if n == 0:
        return x
    frozen = hi <= lo
    x[frozen] = lo[frozen]
    nrows = len(cons.capacity)
    while not frozen.all():
        active = ~frozen
        entry_active = active[cons.item]
        fixed = np.bincount(cons.row[~entry_active],
                            weights=cons.coef[~entry_active] * x[cons.item[~entry_active]],
                            minlength=nrows)
        e_row = cons.row[entry_active]
        e_item = cons.item[entry_active]
        e_coef = cons.coef[entry_active]
        room = cons.capacity - fixed
        # Rows that cannot bind even with every active item at its maximum are dropped.
        at_max = np.bincount(e_row, weights=e_coef * hi[e_item], minlength=nrows)
        # A row can only stop items that are still rising; one already over its capacity
        # with no rising item in it is the caller's business (nothing here can help).
        has_active = np.bincount(e_row, minlength=nrows) > 0
        binding = (at_max > room + _EPS) & has_active
        if not binding.any():
            x[active] = hi[active]
            break
        keep = binding[e_row]
        e_row, e_item, e_coef = e_row[keep], e_item[keep], e_coef[keep]
        e_w, e_lo, e_hi = weight[e_item], lo[e_item], hi[e_item]
        # Bracket each row's level: 0 (everyone at lo is feasible) to the level at which
        # its own items all reach their maximum.
        lam_lo = np.zeros(nrows)
        lam_hi = np.zeros(nrows)
        np.maximum.at(lam_hi, e_row, e_hi / e_w)
        lam_hi += 1e-6
        limit = room + 1e-12
        mid = np.empty(nrows)
        val = np.empty(len(e_row))
        # The hot loop of the allocation: in-place ufuncs, no temporaries, no np.clip.
        for _ in range(_BISECT_STEPS):
            np.add(lam_lo, lam_hi, out=mid)
            mid *= 0.5
            np.take(mid, e_row, out=val)
            val *= e_w
            np.maximum(val, e_lo, out=val)
            np.minimum(val, e_hi, out=val)
            val *= e_coef
            over = np.bincount(e_row, weights=val, minlength=nrows) > limit
            np.copyto(lam_hi, mid, where=over)
            np.copyto(lam_lo, mid, where=~over)
        lam_lo = _linear_finish(lam_lo, lam_hi, e_row, e_w, e_lo, e_hi, e_coef, limit)
        lam = np.where(binding, lam_lo, np.inf)
        # A row's level is exact when it is the lowest of every row its items are in:
        # freeze all such rows in this round (disjoint subtrees fill independently), not
        # only the lowest one, so rounds follow the tree's depth, not its width.
        item_min = np.full(n, np.inf)
        np.minimum.at(item_min, e_item, lam[e_row])
        row_min = np.full(nrows, np.inf)
        np.minimum.at(row_min, e_row, item_min[e_item])
        exact = binding & (row_min >= lam - _EPS)
        tight_items = np.zeros(n, dtype=bool)
        tight_items[e_item[exact[e_row]]] = True
        in_binding = np.zeros(n, dtype=bool)
        in_binding[e_item] = True
        free = active & ~in_binding  # bound by no row that can fill: straight to maximum
        x[free] = hi[free]
        x[tight_items] = np.minimum(np.maximum(item_min * weight, lo), hi)[tight_items]
        frozen = frozen | free | tight_items
    return x
