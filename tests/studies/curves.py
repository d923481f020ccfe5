"""Reading a trained run's metric history as curves: the phenomena tests of one study family share these."""
import numpy as np


def as_curves(runner) -> dict[str, np.ndarray]:
    """The run's history as one array per metric (the `step` array included)."""
    rows = runner.history.since(0)
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def first_step(curve, steps, threshold) -> int:
    """The first recorded step at which `curve` reaches `threshold`; fails, saying how high it got, if never."""
    hits = np.flatnonzero(curve >= threshold)
    assert len(hits), f"never reached {threshold} (highest {curve.max():.3f})"
    return int(steps[hits[0]])


def first_below(curve, steps, threshold) -> int:
    """The first recorded step at which `curve` is below `threshold`."""
    hits = np.flatnonzero(curve < threshold)
    assert len(hits), f"never fell below {threshold:.3f} (lowest {curve.min():.3f})"
    return int(steps[hits[0]])
