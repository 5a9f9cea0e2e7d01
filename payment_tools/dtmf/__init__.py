"""In-band DTMF: a streaming Q.24 receiver, a look-ahead masker and a two-source key merger.

``DtmfDetector`` finds key presses in a caller's audio; ``DtmfMasker`` removes the tones from it
with a 20 ms look-ahead; ``DtmfMaskingProcessor`` does both on LiveKit frames; ``DualSourceKeys``
feeds in-band and SIP keys to the keypad router, each press once.
"""

from payment_tools.dtmf.detector import DetectorParams, DtmfDetector, DtmfHit, detect
from payment_tools.dtmf.masker import DtmfMasker, MaskerParams, mask_signal
from payment_tools.dtmf.merge import DigitMerger, DualSourceKeys, Source
from payment_tools.dtmf.processor import DtmfMaskingProcessor, KeyCallback

__all__ = [
    "DetectorParams",
    "DigitMerger",
    "DtmfDetector",
    "DtmfHit",
    "DtmfMasker",
    "DtmfMaskingProcessor",
    "DualSourceKeys",
    "KeyCallback",
    "MaskerParams",
    "Source",
    "detect",
    "mask_signal",
]
