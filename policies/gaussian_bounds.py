"""Expectations of convex functions of a Gaussian, exactly or from above.

Two tools for the information bound (``policies.information_bound``):

- ``expect_max_lines``: the exact mean of ``max(0, max_k alpha_k + beta_k X)``
  for ``X ~ N(m, s^2)`` (a convex piecewise-linear function: its upper envelope
  is integrated segment by segment against the normal density);
- ``chord_weights`` / ``chord_upper``: an upper bound on ``E[phi(Z)]`` for a
  convex, nondecreasing ``phi`` of ``Z ~ N(0, 1)`` known only at grid points:
  on each grid cell a convex function lies below its chord, below the first
  grid point it is at most its value there (nondecreasing), and beyond the
  last one it grows at most at its largest slope.

And ``equiprobable_bins``: the conditional means of ``K`` equiprobable bins of
``N(0, 1)`` (the LP's discretisation of a signal).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.special import ndtr, ndtri

SQRT_2PI = float(np.sqrt(2.0 * np.pi))
GRID_HALF_WIDTH = 6.0
"""The chord grid spans [-6, 6] standard deviations; the tails are bounded separately."""
GRID_CELLS = 96


def normal_pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * np.square(x)) / SQRT_2PI


@cache
def equiprobable_bins(k: int) -> np.ndarray:
    """Conditional means ``E[Z | bin]`` of ``k`` equiprobable bins of ``N(0, 1)`` (one bin,
    at 0, if ``k <= 1``); read-only, since every caller shares the cached array."""
    k = max(k, 1)
    edges = ndtri(np.linspace(0.0, 1.0, k + 1))
    pdf = normal_pdf(edges)  # 0 at the infinite ends
    means = (pdf[:-1] - pdf[1:]) * k
    means.setflags(write=False)
    return means


@cache
def chord_weights(
    cells: int = GRID_CELLS, half_width: float = GRID_HALF_WIDTH
) -> tuple[np.ndarray, np.ndarray, float]:
    """(grid points, weights, tail term) such that for a convex nondecreasing ``phi``
    with slope at most ``smax``: ``E[phi(Z)] <= weights @ phi(grid) + tail * smax``."""
    grid = np.linspace(-half_width, half_width, cells + 1)
    cdf, pdf = ndtr(grid), normal_pdf(grid)
    prob = np.diff(cdf)  # P(bin)
    first = pdf[:-1] - pdf[1:]  # P(bin) * E[Z | bin]
    h = np.diff(grid)
    frac = (first - prob * grid[:-1]) / h  # P(bin) * (E[Z | bin] - left) / h
    weights = np.zeros(cells + 1)
    weights[:-1] += prob - frac
    weights[1:] += frac
    weights[0] += cdf[0]  # below the grid: phi(z) <= phi(grid[0])
    upper = 1.0 - cdf[-1]
    weights[-1] += upper  # above: phi(z) <= phi(grid[-1]) + smax (z - grid[-1])
    tail = float(pdf[-1] - upper * grid[-1])
    return grid, weights, tail


def chord_upper(values: np.ndarray, scale: float, smax: float) -> np.ndarray:
    """Upper bound on ``E[phi(m + scale Z)]`` from ``values[..., i] = phi(m + scale grid[i])``
    (last axis the chord grid) for convex nondecreasing ``phi`` of slope at most ``smax``."""
    _, weights, tail = chord_weights()
    return values @ weights + tail * scale * smax


def upper_envelope(
    alpha: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lines of ``max(0, max_k alpha_k + beta_k x)`` left to right and their breakpoints.

    Returns (alpha, beta, breaks) with ``len(breaks) == len(alpha) - 1``; line ``i``
    is the maximum on ``[breaks[i-1], breaks[i]]``.
    """
    a = np.concatenate(([0.0], np.asarray(alpha, float)))
    b = np.concatenate(([0.0], np.asarray(beta, float)))
    order = np.lexsort((a, b))  # by slope, then intercept
    hull_a: list[float] = []
    hull_b: list[float] = []
    for k in order:
        ak, bk = float(a[k]), float(b[k])
        if hull_b and bk == hull_b[-1]:  # same slope: the higher intercept wins
            hull_a.pop()
            hull_b.pop()
        while len(hull_a) >= 2:
            # the last line is useless if the new one overtakes the one before it earlier
            x_new = (hull_a[-2] - ak) / (bk - hull_b[-2])
            x_last = (hull_a[-2] - hull_a[-1]) / (hull_b[-1] - hull_b[-2])
            if x_new <= x_last:
                hull_a.pop()
                hull_b.pop()
            else:
                break
        hull_a.append(ak)
        hull_b.append(bk)
    ha, hb = np.array(hull_a), np.array(hull_b)
    breaks = (ha[:-1] - ha[1:]) / (hb[1:] - hb[:-1])
    return ha, hb, breaks


def expect_max_lines(
    alpha: np.ndarray, beta: np.ndarray, mean: np.ndarray, sd: float
) -> np.ndarray:
    """``E[max(0, max_k alpha_k + beta_k X)]``, ``X ~ N(mean, sd^2)``, elementwise in ``mean``."""
    mean = np.asarray(mean, float)
    if len(alpha) == 0:
        return np.zeros_like(mean)
    if sd <= 0.0:
        return np.maximum(0.0, (mean[..., None] * beta + alpha).max(-1))
    ha, hb, breaks = upper_envelope(alpha, beta)
    z = (breaks[None, :] - mean[..., None]) / sd  # (..., r)
    cdf = np.concatenate(
        (np.zeros(mean.shape + (1,)), ndtr(z), np.ones(mean.shape + (1,))), axis=-1
    )
    pdf = np.concatenate(
        (np.zeros(mean.shape + (1,)), normal_pdf(z), np.zeros(mean.shape + (1,))), axis=-1
    )
    mass = np.diff(cdf, axis=-1)  # P(segment)
    first = -np.diff(pdf, axis=-1)  # E[(X - mean)/sd ; segment]
    return ((ha + hb * mean[..., None]) * mass + hb * sd * first).sum(-1)
