"""audioenh-codecs: lossy-codec degradations (MP3, Ogg Vorbis, Ogg Opus) through libsndfile's encoders."""

from .base import LossyCodec, measure_delay
from .formats import MP3, Opus, Vorbis

__version__ = "0.1.0"

__all__ = ["MP3", "LossyCodec", "Opus", "Vorbis", "measure_delay"]
