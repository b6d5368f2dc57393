"""Degradations: transforms that turn full-band audio into the network's input."""

from .base import Degradation, apply_chain, check_audio

__all__ = ["Degradation", "apply_chain", "check_audio"]
