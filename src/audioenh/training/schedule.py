"""The paper's learning-rate schedule: halve the lr after ``patience`` records without improvement."""

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
