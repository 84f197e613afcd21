"""Weighted max-min fair filling under linear capacity constraints (vectorised).

Each item ``i`` gets ``x_i = clip(level · w_i, lo_i, hi_i)``; the level rises until some
constraint is full; the items in full constraints are frozen at that level and the others
go on rising. That is progressive filling: the result is the weighted max-min fair point
of the feasible set. Constraints are rows of a sparse matrix given as triplets
(row, item, coefficient), so one item may weigh on several rows (three phases of several
nodes of the tree) with different coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Constraints", "fill"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

_BISECT_STEPS = 36
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
        top = float(np.max(hi[active] / weight[active])) + 1.0
        lam_lo = np.zeros(nrows)
        lam_hi = np.full(nrows, top)
        for _ in range(_BISECT_STEPS):
            mid = (lam_lo + lam_hi) * 0.5
            val = e_coef * np.clip(mid[e_row] * e_w, e_lo, e_hi)
            over = np.bincount(e_row, weights=val, minlength=nrows) > room + 1e-12
            lam_hi = np.where(over, mid, lam_hi)
            lam_lo = np.where(over, lam_lo, mid)
        lam = np.where(binding, lam_lo, np.inf)
        level = float(lam.min())
        tight_rows = lam <= level + _EPS
        tight_items = np.zeros(n, dtype=bool)
        tight_items[e_item[tight_rows[e_row]]] = True
        new_x = np.clip(level * weight, lo, hi)
        x[active] = new_x[active]
        # Frozen: items in a full row, and items already at their maximum.
        frozen = frozen | (active & (tight_items | (new_x >= hi - _EPS)))
    return x
