"""MP3, Ogg Vorbis and Ogg Opus through the encoders bundled in soundfile's libsndfile.

libsndfile sets each encoder's quality with one number, ``compression_level`` in [0, 1]
(0: best). The parameters here are in the codecs' own units, mapped to it as measured with
soundfile 0.14 / libsndfile 1.2.2 (see each class and the package README).
"""

from __future__ import annotations

import math
from typing import Any

from .base import LossyCodec

#: Bitrates (kbit/s) of MPEG-1 Layer III (32, 44.1 and 48 kHz).
MPEG1_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
#: Bitrates (kbit/s) of MPEG-2 Layer III (16, 22.05 and 24 kHz); MPEG-2.5 (8 to 12 kHz) goes up to 64.
MPEG2_BITRATES = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)


def _number(name: str, value, lo: float, hi: float, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a number from {lo:g} to {hi:g}{unit}, got {value!r}")
    return float(value)


class MP3(LossyCodec):
    """MP3 round trip (LAME, constant bitrate in kbit/s), decoded and realigned to the input sample for sample.

    bitrate: kbit/s (default 128), one of MPEG-1's 32, 40, ..., 320 at 32, 44.1 and 48 kHz, or
    MPEG-2's 8, 16, ..., 160 at 16 to 24 kHz (up to 64 at 8 to 12 kHz). Other sample rates are
    resampled with soxr to the next higher MP3 rate (48 kHz above it) and back.
    """

    example = "mp3:128"
    format, subtype = "MP3", "MPEG_LAYER_III"
    rates = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
    frame = 1152

    def __init__(self, bitrate: int = 128):
        if isinstance(bitrate, bool) or bitrate not in sorted(set(MPEG1_BITRATES) | set(MPEG2_BITRATES)):
            raise ValueError(
                f"bitrate must be an MP3 bitrate in kbit/s ({', '.join(map(str, MPEG1_BITRATES))} at 32 to 48 kHz; "
                f"{', '.join(map(str, MPEG2_BITRATES))} at 16 to 24 kHz), got {bitrate!r}"
            )
        self.bitrate = int(bitrate)

    @staticmethod
    def bitrate_range(codec_rate: int) -> tuple[int, int]:
        """Lowest and highest constant bitrate (kbit/s) libsndfile's compression levels span at ``codec_rate``."""
        if codec_rate >= 32000:
            return 32, 320
        if codec_rate >= 16000:
            return 8, 160
        return 8, 64

    def write_options(self, codec_rate: int, channels: int) -> dict[str, Any]:
        lo, hi = self.bitrate_range(codec_rate)
        allowed = [b for b in (MPEG1_BITRATES if codec_rate >= 32000 else MPEG2_BITRATES) if lo <= b <= hi]
        if self.bitrate not in allowed:
            raise ValueError(
                f"mp3 at {codec_rate} Hz takes bitrates {', '.join(map(str, allowed))} kbit/s, not {self.bitrate}"
            )
        # libsndfile spans [lo, hi] linearly (level 0: hi) and LAME takes the nearest standard bitrate,
        # so a standard bitrate maps to itself: measured on the files' frame headers at every rate.
        # Level 1.0 itself is refused by libsndfile 1.2.2, hence the cap (it still gives `lo`).
        level = min((hi - self.bitrate) / (hi - lo), 0.9999)
        return dict(compression_level=level, bitrate_mode="CONSTANT")


class Vorbis(LossyCodec):
    """Ogg Vorbis round trip (variable bitrate at a quality from 0 to 1), decoded and realigned to the input.

    quality: libvorbis quality, 0 to 1 (default 0.5), i.e. oggenc's -q 0 to 10 divided by 10;
    about 64, 160 and 500 kbit/s nominal for stereo 44.1 kHz at 0, 0.5 and 1
    (compression_level = 1 - quality). Any sample rate from 4 to 192 kHz.
    """

    example = "vorbis:0.5"
    format, subtype = "OGG", "VORBIS"
    frame = 2048

    def __init__(self, quality: float = 0.5):
        self.quality = _number("quality", quality, 0.0, 1.0, "")

    def write_options(self, codec_rate: int, channels: int) -> dict[str, Any]:
        return dict(compression_level=1.0 - self.quality)


class Opus(LossyCodec):
    """Ogg Opus round trip (libopus, variable bitrate in kbit/s), decoded and realigned to the input.

    bitrate: target kbit/s for all channels together (default 96), 6 to 256 per channel.
    Opus takes 8, 12, 16, 24 and 48 kHz: other sample rates (e.g. 44.1 kHz) are resampled with
    soxr to the next higher one (48 kHz above it) and back.
    """

    example = "opus:96"
    format, subtype = "OGG", "OPUS"
    rates = (8000, 12000, 16000, 24000, 48000)
    frame = 960  # 20 ms at 48 kHz

    def __init__(self, bitrate: float = 96):
        self.bitrate = _number("bitrate", bitrate, 6, 512, " kbit/s")

    def write_options(self, codec_rate: int, channels: int) -> dict[str, Any]:
        per_channel = self.bitrate / channels
        if not 6 <= per_channel <= 256:
            raise ValueError(
                f"opus takes 6 to 256 kbit/s per channel; {self.bitrate:g} kbit/s for {channels} channel(s) "
                f"is {per_channel:g} per channel"
            )
        # libsndfile sets libopus's bitrate to channels * (6 + 250 * (1 - level)) kbit/s (measured).
        return dict(compression_level=min(max((256 - per_channel) / 250, 0.0), 1.0))

    def context_samples(self, sample_rate: int) -> int:
        # 4 frames of 20 ms plus the encoder's 312-sample (6.5 ms) look-ahead at 48 kHz.
        return super().context_samples(sample_rate) + math.ceil(312 * sample_rate / self.codec_rate(sample_rate))
