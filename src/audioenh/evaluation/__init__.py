"""Inference on whole songs and per-song evaluation."""
