"""Learning-rate schedules: the paper's (halve the lr after ``patience`` records without
improvement) and an optional cosine decay over a run's last iterations."""

from __future__ import annotations

import math
from typing import Any


class PlateauHalving:
    """Halve the learning rate when the recorded training loss has not decreased for ``patience`` records.

    Called once per record with that record's mean training loss (the paper records every 2500
    iterations and uses patience 5). Unlike the reference code, it is stepped on the training loss.
    """

    def __init__(self, lr: float, patience: int = 5, factor: float = 0.5):
        self.lr = float(lr)
        self.patience = int(patience)
        self.factor = float(factor)
        self.best = math.inf
        self.bad_records = 0

    def step(self, loss: float) -> float:
        """Account for one record's loss; returns the (possibly reduced) learning rate."""
        if loss < self.best:
            self.best = float(loss)
            self.bad_records = 0
        else:
            self.bad_records += 1
            if self.bad_records >= self.patience:
                self.lr *= self.factor
                self.bad_records = 0
        return self.lr

    def state_dict(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "patience": self.patience,
            "factor": self.factor,
            "best": self.best,
            "bad_records": self.bad_records,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.lr = float(state["lr"])
        self.patience = int(state["patience"])
        self.factor = float(state["factor"])
        self.best = float(state["best"])
        self.bad_records = int(state["bad_records"])


def decay_factor(step: int, iterations: int, decay: int) -> float:
    """The factor (0-1) on the learning rate of 0-based ``step`` of a run of ``iterations``: 1 until
    the last ``decay`` iterations, then a cosine from 1 down towards 0 (``decay`` 0: always 1).

    A function of the step alone, so a resumed run follows the same schedule as one that never
    stopped, and a run resumed with more ``iterations`` still decays over its new end."""
    if decay <= 0:
        return 1.0
    start = iterations - decay
    if step < start:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(step - start, decay) / decay))
