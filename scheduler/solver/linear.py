"""A solver-neutral integer linear model: CP-SAT and HiGHS read the very same one.

Variables are non-negative integers with an upper bound (most are Booleans)
and an integer objective coefficient; rows are ``lo <= sum(coef * x) <= hi``.
The objective is maximised. Both ``scheduler.solver.cpsat`` and
``scheduler.solver.mip`` translate this object, so the CP-SAT model and its MIP
twin cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

INF = float("inf")


@dataclass
class LinearModel:
    obj: list[int] = field(default_factory=list)
    upper: list[int] = field(default_factory=list)
    keys: list[Hashable] = field(default_factory=list)
    row_cols: list[list[int]] = field(default_factory=list)
    row_coefs: list[list[int] | None] = field(default_factory=list)
    """None: every coefficient is 1."""
    row_lo: list[float] = field(default_factory=list)
    row_hi: list[float] = field(default_factory=list)
    constant: int = 0
    """Objective value of what is fixed outside the model (confirmed interviews)."""

    @property
    def n_vars(self) -> int:
        return len(self.obj)

    @property
    def n_rows(self) -> int:
        return len(self.row_cols)

    def add_var(self, key: Hashable, obj: int, upper: int = 1) -> int:
        self.obj.append(int(obj))
        self.upper.append(int(upper))
        self.keys.append(key)
        return len(self.obj) - 1

    def add_row(
        self,
        cols: Sequence[int],
        coefs: Sequence[int] | None = None,
        lo: float = -INF,
        hi: float = INF,
    ) -> None:
        self.row_cols.append(list(cols))
        self.row_coefs.append(None if coefs is None else [int(c) for c in coefs])
        self.row_lo.append(lo)
        self.row_hi.append(hi)

    def objective(self, values: Sequence[int]) -> int:
        return self.constant + int(np.dot(np.asarray(self.obj), np.asarray(values)))

    def violated(self, values: Sequence[int]) -> list[int]:
        """Rows that ``values`` breaks (a self-check of hints and solutions)."""
        x = np.asarray(values, dtype=np.int64)
        bad = []
        for r, cols in enumerate(self.row_cols):
            coefs = self.row_coefs[r]
            total = int(x[cols].sum()) if coefs is None else int(np.dot(x[cols], coefs))
            if total < self.row_lo[r] or total > self.row_hi[r]:
                bad.append(r)
        return bad

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row-wise sparse matrix: (starts, indices, values)."""
        lengths = np.fromiter((len(c) for c in self.row_cols), dtype=np.int64, count=self.n_rows)
        starts = np.zeros(self.n_rows + 1, dtype=np.int32)
        np.cumsum(lengths, out=starts[1:])
        indices = np.fromiter(
            (j for cols in self.row_cols for j in cols), dtype=np.int32, count=int(starts[-1])
        )
        values = np.fromiter(
            (
                v
                for cols, coefs in zip(self.row_cols, self.row_coefs, strict=True)
                for v in (coefs if coefs is not None else [1] * len(cols))
            ),
            dtype=np.float64,
            count=int(starts[-1]),
        )
        return starts, indices, values
