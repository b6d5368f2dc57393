"""Metrics comparing an estimate with its full-band reference."""

from .base import Metric, check_pair

__all__ = ["Metric", "check_pair"]
