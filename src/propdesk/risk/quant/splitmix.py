"""Counter-based randomness for the challenge Monte Carlo (SplitMix64).

Trade *t* of path *p* uses SplitMix64's output number p·2³² + t of a stream keyed by the seed. A
draw depends only on (seed, path, trade), never on which paths are still alive or on chunking, so
runs are reproducible, and the same path sees the same trades under every pack ("common random
numbers"): comparisons between packs hold path by path, not only on average.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

UIntArray = npt.NDArray[np.uint64]

# Counter-based randomness: the t-th trade of path p draws SplitMix64's output number p·2^32 + t
# of a stream keyed by (seed, stream). A draw depends only on (seed, path, day, trade), never on
# which paths are still alive or on chunking, so runs are reproducible and comparable across packs.
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_TRADES_PER_PATH = 1 << 32
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _mix_int(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _mix(z: UIntArray) -> UIntArray:
    """The SplitMix64 finalizer, elementwise (uint64 arithmetic wraps)."""
    t = z >> _S30
    t ^= z
    t *= _M1
    u = t >> _S27
    u ^= t
    u *= _M2
    t = u >> _S31
    t ^= u
    return t


def stream_keys(seed: int, stream: int, first: int, n: int) -> UIntArray:
    base = _mix_int((seed * _GOLDEN + (stream + 1) * 0xD1B54A32D192ED03) & _MASK)
    step = np.uint64((_TRADES_PER_PATH * _GOLDEN) & _MASK)
    return np.uint64(base) + np.arange(first, first + n, dtype=np.uint64) * step


def draw(keys: UIntArray, counter: int, scratch: tuple[UIntArray, UIntArray] | None = None) -> UIntArray:
    """64 random bits per key for trade ``counter``.

    With ``scratch`` (two buffers at least as long as ``keys``) no temporary array is allocated:
    large temporaries freed and reallocated every step make glibc map and unmap pages, which costs
    more than the arithmetic. The result is a view into the second buffer.
    """
    if scratch is None:
        return _mix(keys + np.uint64((counter * _GOLDEN) & _MASK))
    m = keys.shape[0]
    a, b = scratch[0][:m], scratch[1][:m]
    np.add(keys, np.uint64((counter * _GOLDEN) & _MASK), out=a)
    np.right_shift(a, _S30, out=b)
    np.bitwise_xor(b, a, out=b)
    np.multiply(b, _M1, out=b)
    np.right_shift(b, _S27, out=a)
    np.bitwise_xor(a, b, out=a)
    np.multiply(a, _M2, out=a)
    np.right_shift(a, _S31, out=b)
    np.bitwise_xor(b, a, out=b)
    return b


def threshold(probability: float) -> np.uint64:
    """A 64-bit threshold t with P(bits < t) = probability."""
    return np.uint64(min(int(probability * (1 << 64)), _MASK))
