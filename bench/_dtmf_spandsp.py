"""SpanDSP's ``dtmf_rx`` through ctypes (Debian libspandsp2; see scripts/install-dtmf-bench.sh).

SpanDSP decides on 102-sample blocks and reports a digit when two consecutive blocks agree, so
its best onset estimate is the block end at which it reports, less two blocks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BLOCK = 102
_REPORT_DELAY = 2 * BLOCK

_ToneReport = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int)


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("spandsp") or "libspandsp.so.2"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise RuntimeError("libspandsp not found: run scripts/install-dtmf-bench.sh") from exc
    lib.dtmf_rx_init.restype = ctypes.c_void_p
    lib.dtmf_rx_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.dtmf_rx.restype = ctypes.c_int
    lib.dtmf_rx.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16), ctypes.c_int]
    lib.dtmf_rx_set_realtime_callback.restype = None
    lib.dtmf_rx_set_realtime_callback.argtypes = [ctypes.c_void_p, _ToneReport, ctypes.c_void_p]
    lib.dtmf_rx_free.restype = ctypes.c_int
    lib.dtmf_rx_free.argtypes = [ctypes.c_void_p]
    return lib


_LIB = _load()


@dataclass(frozen=True)
class SpanHit:
    """A digit SpanDSP reported, with its onset estimate in samples."""

    key: str
    start_sample: int


def to_pcm16(samples: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    """Float samples (full scale 1.0) as 16-bit PCM."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


class SpanDsp:
    """One SpanDSP DTMF receiver."""

    def __init__(self) -> None:
        self._events: list[str] = []

        def report(_user: int | None, code: int, _level: int, _delay: int) -> None:
            if code:
                self._events.append(chr(code))

        self._callback = _ToneReport(report)
        self._state = _LIB.dtmf_rx_init(None, None, None)
        _LIB.dtmf_rx_set_realtime_callback(self._state, self._callback, None)

    def close(self) -> None:
        """Free the C state."""
        _LIB.dtmf_rx_free(self._state)

    def feed(self, pcm: npt.NDArray[np.int16]) -> list[str]:
        """Run SpanDSP over ``pcm``; return the digits it started reporting."""
        buf = np.ascontiguousarray(pcm, dtype=np.int16)
        _LIB.dtmf_rx(self._state, buf.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)), len(buf))
        events, self._events = self._events, []
        return events


def spandsp_detect(samples: npt.NDArray[np.float64]) -> list[SpanHit]:
    """Digits SpanDSP finds in a whole recording, fed block by block to time each report."""
    pcm = to_pcm16(samples)
    rx = SpanDsp()
    hits: list[SpanHit] = []
    try:
        for start in range(0, len(pcm), BLOCK):
            end = min(start + BLOCK, len(pcm))
            for key in rx.feed(pcm[start:end]):
                hits.append(SpanHit(key, end - _REPORT_DELAY))
        for key in rx.feed(np.zeros(4 * BLOCK, dtype=np.int16)):
            hits.append(SpanHit(key, len(pcm) - _REPORT_DELAY))
    finally:
        rx.close()
    return hits


def spandsp_keys(samples: npt.NDArray[np.float64]) -> str:
    """Digits SpanDSP finds in a whole recording, fed in one call (the fast path)."""
    pcm = to_pcm16(samples)
    rx = SpanDsp()
    try:
        return "".join(rx.feed(pcm) + rx.feed(np.zeros(4 * BLOCK, dtype=np.int16)))
    finally:
        rx.close()
