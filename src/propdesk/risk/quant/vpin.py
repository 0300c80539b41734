"""VPIN (volume-synchronized probability of informed trading) by bulk volume classification.

Easley, López de Prado and O'Hara (2012) (docs/risk.md, "Signals"):

1. time bars (1 minute by default upstream) give a price change ΔP_i and a volume V_i;
2. each bar's buy volume is ``V_i · Φ(ΔP_i / σ_ΔP)`` (BVC), the rest is sell volume;
3. volume is poured into equal buckets of V = ADV / n (n = 50 a day by default), a bar's volume
   split across a bucket boundary in proportion (its buy share is the same on both sides);
4. per bucket the order imbalance is ``|V^B − V^S|``;
5. VPIN over the last ``window`` buckets is ``Σ OI / (window · V)``, in [0, 1], updated each time
   a bucket completes.

Absolute VPIN levels differ by instrument, so a gate compares VPIN's percentile in its own
history (:func:`vpin_cdf`) with a threshold (0.9 in the flash-crash narrative, 0.99 in the LBNL
studies). It is a liquidity-toxicity signal with a contested track record (Andersen and
Bondarenko 2014), not a predictor: use it as a gate on new exposure, not as a trade signal.

σ defaults to the sample standard deviation of all the bar changes given (as the reference
implementations do); pass ``sigma`` estimated from past data to avoid look-ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SQRT2 = math.sqrt(2.0)


def normal_cdf(x: FloatArray) -> FloatArray:
    """Φ elementwise, exact to double precision (math.erf)."""
    flat = np.asarray(x, dtype=np.float64).ravel()
    values = np.fromiter((0.5 * (1.0 + math.erf(v / SQRT2)) for v in flat), dtype=np.float64, count=flat.size)
    return values.reshape(np.shape(x))


def bulk_classify(
    price_changes: FloatArray, volumes: FloatArray, *, sigma: float | None = None
) -> tuple[FloatArray, FloatArray, float]:
    """Buy and sell volume of each bar by BVC, and the σ used."""
    dp = np.asarray(price_changes, dtype=np.float64)
    v = np.asarray(volumes, dtype=np.float64)
    if dp.shape != v.shape:
        raise ValueError("price changes and volumes must have the same length")
    if (v < 0).any():
        raise ValueError("volumes must not be negative")
    if sigma is None:
        sigma = float(np.std(dp, ddof=1)) if dp.size > 1 else 0.0
    if sigma < 0:
        raise ValueError("sigma must not be negative")
    share = normal_cdf(dp / sigma) if sigma > 0 else np.where(dp > 0, 1.0, np.where(dp < 0, 0.0, 0.5))
    buy = v * share
    return buy, v - buy, sigma


def bucket_volume_for(volumes: FloatArray, days: float, buckets_per_day: int = 50) -> float:
    """V = ADV / n: the average daily volume over ``days`` divided into ``buckets_per_day``."""
    if days <= 0 or buckets_per_day < 1:
        raise ValueError("days must be positive and buckets_per_day at least 1")
    return float(np.sum(volumes)) / days / buckets_per_day


@dataclass(frozen=True, slots=True)
class VpinSeries:
    """Completed buckets, in order; ``vpin[t]`` is NaN until ``window`` buckets exist."""

    bucket_volume: float
    window: int
    sigma: float
    buy_volume: FloatArray
    sell_volume: FloatArray
    imbalance: FloatArray
    vpin: FloatArray
    bucket_end_bar: IntArray

    @property
    def latest(self) -> float | None:
        valid = self.vpin[~np.isnan(self.vpin)]
        return float(valid[-1]) if valid.size else None


def vpin(
    price_changes: FloatArray,
    volumes: FloatArray,
    *,
    bucket_volume: float,
    window: int = 50,
    sigma: float | None = None,
) -> VpinSeries:
    """VPIN per completed volume bucket (bars in time order; a partial last bucket is left out)."""
    if bucket_volume <= 0 or window < 1:
        raise ValueError("bucket_volume must be positive and window at least 1")
    buy, _sell, used_sigma = bulk_classify(price_changes, volumes, sigma=sigma)
    v = np.asarray(volumes, dtype=np.float64)
    keep = v > 0
    cum_v = np.concatenate(([0.0], np.cumsum(v[keep])))
    cum_b = np.concatenate(([0.0], np.cumsum(buy[keep])))
    bars = np.flatnonzero(keep)
    # Relative tolerance so that bars summing to exact multiples of V complete their bucket.
    full = int(np.floor(cum_v[-1] / bucket_volume * (1 + 1e-12)))
    edges = bucket_volume * np.arange(full + 1, dtype=np.float64)
    buy_at = np.interp(edges, cum_v, cum_b)  # buy volume is linear in volume within a bar
    bucket_buy = np.diff(buy_at)
    bucket_sell = bucket_volume - bucket_buy
    imbalance = np.abs(bucket_buy - bucket_sell)
    series = np.full(full, np.nan)
    if full >= window:
        rolling = np.convolve(imbalance, np.ones(window), mode="valid")
        series[window - 1 :] = rolling / (window * bucket_volume)
    position = np.searchsorted(cum_v, edges[1:] * (1 - 1e-12), side="left") - 1
    end_bar = bars[np.clip(position, 0, max(bars.size - 1, 0))] if bars.size else np.zeros(0, dtype=np.int64)
    return VpinSeries(
        bucket_volume=bucket_volume,
        window=window,
        sigma=used_sigma,
        buy_volume=bucket_buy,
        sell_volume=bucket_sell,
        imbalance=imbalance,
        vpin=series,
        bucket_end_bar=end_bar.astype(np.int64),
    )


def vpin_from_bars(
    closes: FloatArray,
    volumes: FloatArray,
    *,
    bucket_volume: float,
    window: int = 50,
    sigma: float | None = None,
) -> VpinSeries:
    """VPIN from bar closes and volumes: ΔP is close-to-close, so the first bar is skipped."""
    c = np.asarray(closes, dtype=np.float64)
    v = np.asarray(volumes, dtype=np.float64)
    if c.shape != v.shape or c.size < 2:
        raise ValueError("need at least two bars with a close and a volume each")
    return vpin(np.diff(c), v[1:], bucket_volume=bucket_volume, window=window, sigma=sigma)


def vpin_cdf(history: FloatArray, value: float) -> float:
    """The empirical CDF of ``value`` in ``history`` (share of past VPINs at or below it)."""
    h = np.asarray(history, dtype=np.float64)
    h = h[~np.isnan(h)]
    if h.size == 0:
        raise ValueError("no VPIN history to rank against")
    return float(np.count_nonzero(h <= value)) / h.size
