"""Streaming in-band DTMF receiver meeting the ITU-T Q.24 receiver criteria.

Windows of 12.75 ms stepping by 4.25 ms (102 and 34 samples at 8 kHz) are classified by
:mod:`payment_tools.dtmf._windows`; consecutive windows supporting one key form a run. A run's
tone is placed to a fraction of a window and its two frequencies are measured from bin phases.
Runs of the same key separated by a short interruption are bridged into one tone. A tone is
reported once it is over, if it lasted long enough, both frequencies are within tolerance, and
two steady sinusoids explain its samples (the talk-off guard: speech and music that put two
harmonics on DTMF frequencies also carry other harmonics and pitch drift).

Speed comes from few numpy calls per batch, with the loops over windows and over each tone's
samples compiled (:mod:`payment_tools.dtmf._compiled`). Audio is analysed in batches of ``batch_ms``
(20 ms frames are buffered and analysed ten at a time; every 40 ms while a run is open; and as
soon as a finished tone can be judged). A batch is first screened on windows that do not
overlap, a third of them, with the window tests; only 250 ms stretches where one passes are
analysed window by window. In speech and music that is a few percent of the audio. The runs
that end in one stretch are summarised together (:mod:`payment_tools.dtmf._segments`).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from payment_tools.dtmf._bank import SampleBuffer
from payment_tools.dtmf._purity import purities
from payment_tools.dtmf._runs import EDGE_WINDOWS, LONG_LAG, MAX_WINDOWS, Run, Segment, Tone
from payment_tools.dtmf._segments import purity_stretch, summarise
from payment_tools.dtmf._windows import WindowAnalyzer, WindowRules, Windows
from payment_tools.dtmf.tones import KEYS

HOP_SECONDS = 0.00425
BLOCKS_PER_WINDOW = 3
_LOOKBACK = max(EDGE_WINDOWS, LONG_LAG)
_STRETCH_SECONDS = 0.25
"""Audio analysed window by window at once where a tone might be."""
_BUSY_SECONDS = 0.04
"""Most audio left unanalysed while a tone is under way."""


@dataclass(frozen=True, repr=False, slots=True)
class DtmfHit:
    """One detected key press; samples count from the start of the stream.

    No repr: a key may be a card digit, and must not reach a log line by accident.
    """

    key: str
    start_sample: int
    end_sample: int


@dataclass(frozen=True)
class DetectorParams:
    """Receiver thresholds, calibrated against the Q.24 vectors and speech in ``bench/``.

    Attributes:
        min_level_dbm0: weakest accepted level per tone (Q.24: operate down to -25 dBm0).
        max_reverse_twist_db: most the high group may exceed the low group (Q.24: +4 dB).
        max_normal_twist_db: most the low group may exceed the high group (Q.24: 8 dB).
        min_dominance_db: margin of each tone over the other tones of its group.
        min_energy_ratio: share of a window's energy the two tones must hold.
        max_frequency_error: relative error allowed per tone (operate 1.5 %, reject 3.5 %).
        min_tone_ms: shortest tone reported (operate 40 ms, reject 23 ms).
        bridge_ms: longest interruption bridged within one tone (Q.24: bridge 10 ms, but
            separate digits after a 40 ms pause).
        min_purity: share of a tone's energy two fitted sinusoids must explain.
    """

    min_level_dbm0: float = -36.0
    max_reverse_twist_db: float = 5.5
    max_normal_twist_db: float = 9.5
    min_dominance_db: float = 6.0
    min_energy_ratio: float = 0.65
    max_frequency_error: float = 0.02
    min_tone_ms: float = 30.0
    bridge_ms: float = 20.0
    min_purity: float = 0.9


class DtmfDetector:
    """Streaming DTMF receiver: feed audio with :meth:`process`, end the stream with :meth:`flush`.

    A key is reported within ``bridge_ms`` plus 25 ms of its tone's end, plus up to ``batch_ms``
    while audio waits to be analysed (:meth:`drain` analyses it at once). With 20 ms frames and
    the default 200 ms batch, that wait adds at most about 110 ms to a 40 ms tone's report, and
    50 ms to a 100 ms tone's (``bench/dtmf_results.md`` has the figures).
    """

    def __init__(
        self, sample_rate: int, params: DetectorParams | None = None, *, batch_ms: float = 200.0
    ) -> None:
        """Create a receiver for audio at ``sample_rate`` (8, 16, 24 or 48 kHz, any rate >= 8 kHz).

        Args:
            sample_rate: samples per second.
            params: thresholds; the defaults meet Q.24.
            batch_ms: least audio analysed at once; less waits for more (0 analyses every chunk).

        Raises:
            ValueError: if the sample rate is below 8 kHz.
        """
        if sample_rate < 8000:
            raise ValueError("sample_rate must be at least 8000")
        self.sample_rate = sample_rate
        self.params = p = params or DetectorParams()
        self._hop = round(HOP_SECONDS * sample_rate)
        self._analyzer = WindowAnalyzer(
            sample_rate,
            self._hop,
            BLOCKS_PER_WINDOW,
            WindowRules(
                p.min_level_dbm0,
                p.max_reverse_twist_db,
                p.max_normal_twist_db,
                p.min_dominance_db,
                p.min_energy_ratio,
            ),
        )
        self._length = self._analyzer.length
        self._batch = round(batch_ms * sample_rate / 1000)
        self._busy_batch = min(self._batch, round(_BUSY_SECONDS * sample_rate))
        self._stretch = round(_STRETCH_SECONDS / HOP_SECONDS)
        self._min_tone = p.min_tone_ms * sample_rate / 1000.0
        self._bridge = p.bridge_ms * sample_rate / 1000.0
        self._edge_trim = 0.0015 * sample_rate
        self._history_len = round(0.1 * sample_rate) + (MAX_WINDOWS + 4) * self._hop
        self._reset()

    def _reset(self) -> None:
        self._buffer = SampleBuffer()
        self._windows: Windows | None = None
        self._next = 0
        self._run: Run | None = None
        self._pending: Tone | None = None
        self._pending_due = 0
        self._analysed_to = 0
        self._dense = False
        self._schedule()

    def process(self, samples: npt.ArrayLike) -> list[DtmfHit]:
        """Consume a chunk of mono audio (float in [-1, 1] or int16); return keys now complete."""
        x = samples if isinstance(samples, np.ndarray) else np.asarray(samples)
        buffer = self._buffer
        buffer.append(x if x.ndim == 1 else x.reshape(-1))
        return self.drain() if buffer.end >= self._due else []

    def _schedule(self) -> None:
        """Set when :meth:`process` next analyses, once per analysis rather than per chunk."""
        # While a tone is under way, look more often, and judge it as soon as it can be.
        due = self._analysed_to + self._batch
        if self._run is not None:
            due = min(due, self._analysed_to + self._busy_batch)
        elif self._pending is not None:
            due = min(due, self._pending_due)
        self._due = due

    def drain(self) -> list[DtmfHit]:
        """Analyse all audio received so far, without waiting for a full batch."""
        hits = self._analyse()
        self._schedule()
        return hits

    def _analyse(self) -> list[DtmfHit]:
        hits: list[DtmfHit] = []
        span = BLOCKS_PER_WINDOW
        end = self._buffer.end
        stop = end // self._hop - span + 1
        if stop - EDGE_WINDOWS <= self._next:
            return hits
        self._analysed_to = end
        # Windows that do not overlap say where a tone might be; only there is every window
        # analysed, a stretch of about 250 ms at a time. After a batch that was mostly tones
        # (touch-tone dialling), the next is analysed whole: the screening would pass anyway.
        first, begin = self._origin(), self._next
        idle = self._run is None and self._pending is None
        count = max(round((stop - self._next) / self._stretch), 1)
        starts: list[int] | None = None
        if (idle or count > 1) and not self._dense:
            tiles = self._analyzer.tile_candidates(self._samples(first, stop))
            if not tiles and idle:
                # Only a run starting in the last two windows could have gone unnoticed.
                self._next = stop - span + 1
                self._release()
                return hits
            starts = [first + span * t for t in tiles]
        size = -(-(stop - self._next) // count)

        def quiet(lo: int, hi: int) -> bool:
            """No tile candidate starts at a window in lo .. hi - 1 (screened audio only)."""
            if starts is None:
                return False
            at = bisect.bisect_left(starts, lo)
            return at == len(starts) or starts[at] >= hi

        analysed, ended = 0, 0
        while self._next < stop - EDGE_WINDOWS:
            end = min(self._next + size, stop)
            if self._run is None and self._pending is None and quiet(self._next, end):
                # Only a run starting in the last two windows could have gone unnoticed.
                self._next = max(self._next, end - span + 1)
                continue
            # Neighbouring stretches that might hold a tone are analysed together.
            while end < stop and not quiet(end, min(end + size, stop)):
                end = min(end + size, stop)
            start = self._origin()
            stretch_stop = min(end + EDGE_WINDOWS, stop)
            windows = self._analyzer.analyze(self._samples(start, stretch_stop), start)
            self._windows = windows
            ended += self._advance(windows, stretch_stop - EDGE_WINDOWS, hits)
            analysed += stretch_stop - max(start, begin)
        self._dense = ended >= 2 and 4 * analysed >= 3 * (stop - begin)
        self._release()
        return hits

    def _origin(self) -> int:
        """First window of the next analysis: an open run is analysed again from its start."""
        first = self._next if self._run is None else min(self._next, self._run.first)
        return max(first - _LOOKBACK, 0)

    def _release(self) -> None:
        """Let the buffer drop what neither the next analysis nor a purity test can need."""
        oldest = self._origin() * self._hop
        self._buffer.release(min(oldest, self._buffer.end - self._history_len))

    def _samples(self, first: int, stop: int) -> npt.NDArray[np.float32]:
        """The samples of windows ``first .. stop - 1``."""
        hop = self._hop
        return self._buffer.view(first * hop, (stop + BLOCKS_PER_WINDOW - 1) * hop)

    def flush(self) -> list[DtmfHit]:
        """End the stream: report any tone still open, then reset for a new stream."""
        tail = self._length + (EDGE_WINDOWS + 2) * self._hop
        self._buffer.append(np.zeros(tail, dtype=np.float32))
        hits = self.drain()
        if self._run is not None:
            assert self._windows is not None
            self._take(summarise([self._run], self._windows, self._hop, self.sample_rate), hits)
        self._finish_pending(hits)
        self._reset()
        return hits

    def _advance(self, windows: Windows, stop: int, hits: list[DtmfHit]) -> int:
        """Run the state machine over windows ``_next .. stop - 1`` (only key-supporting ones).

        Returns how many runs ended.
        """
        hits_in = windows.hits.tolist()
        lo, hi = bisect.bisect_left(hits_in, self._next), bisect.bisect_left(hits_in, stop)
        ended: list[Run] = []
        for window, key in zip(hits_in[lo:hi], windows.keys[lo:hi].tolist(), strict=True):
            run = self._run
            if run is not None and run.key == key and run.last == window - 1:
                run.last = window
                continue
            if run is not None:
                ended.append(run)
            self._run = Run(key, window, window)
        run = self._run
        if run is not None and run.last < stop - 1:
            ended.append(run)
            self._run = None
        self._next = stop
        self._take(summarise(ended, windows, self._hop, self.sample_rate), hits)
        horizon = (stop - EDGE_WINDOWS) * self._hop
        if self._run is None and self._pending and horizon - self._pending.offset > self._bridge:
            self._finish_pending(hits)
        return len(ended)

    def _take(self, segments: list[Segment], hits: list[DtmfHit]) -> None:
        """Bridge each segment into the pending tone, or report that tone and start anew."""
        base, rate = self._buffer.base, self.sample_rate
        longest = self._history_len // 2
        stretches = [purity_stretch(seg, base, rate, self._edge_trim, longest) for seg in segments]
        measured = [s for s in stretches if s is not None]
        found = iter(purities(self._buffer.view(self._buffer.base, self._buffer.end), measured))
        for seg, stretch in zip(segments, stretches, strict=True):
            purity = 0.0 if stretch is None else next(found)
            pending = self._pending
            if pending and pending.key == seg.key and seg.onset - pending.offset <= self._bridge:
                pending.extend(seg, purity, self._hop, self.sample_rate)
            else:
                self._finish_pending(hits)
                pending = self._pending = Tone.of(seg, purity)
            # The tone can be judged once the analysis passes its end by the bridging interval.
            due_window = math.floor((pending.offset + self._bridge) / self._hop) + 1
            self._pending_due = (due_window + 2 * EDGE_WINDOWS + BLOCKS_PER_WINDOW) * self._hop

    def _finish_pending(self, hits: list[DtmfHit]) -> None:
        tone, self._pending = self._pending, None
        if tone is None or tone.duration < self._min_tone:
            return
        errors = tone.errors
        limit = self.params.max_frequency_error
        if errors is None or max(abs(errors[0]), abs(errors[1])) > limit:
            return
        if tone.purity < self.params.min_purity:
            return
        hits.append(DtmfHit(KEYS[tone.key], round(tone.onset), round(tone.offset)))


def detect(
    samples: npt.ArrayLike, sample_rate: int, params: DetectorParams | None = None
) -> list[DtmfHit]:
    """Detect every key press in a whole recording."""
    detector = DtmfDetector(sample_rate, params)
    return detector.process(samples) + detector.flush()
