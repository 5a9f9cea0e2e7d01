"""Machine-code compilation of the receiver's inner loops (numba).

The receiver's per-tone work is a few hundred arithmetic operations on tens of windows or
hundreds of samples: as numpy calls it costs far more in per-call overhead than in arithmetic.
These loops are compiled on first use; numba caches the machine code next to the module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import numba

FunctionT = TypeVar("FunctionT", bound=Callable[..., object])


def compiled(function: FunctionT) -> FunctionT:
    """Compile ``function`` (nopython mode, cached on disk), keeping its signature for callers."""
    return cast(FunctionT, numba.njit(cache=True, nogil=True)(function))
