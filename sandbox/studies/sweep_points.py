"""What one point of a study's sweep measures, run on a Dask worker: plain values in, plain floats out
(see runtime/sweep.py). Each study names its own in `SWEEP`."""
from __future__ import annotations

import math
import time


def grokking_point(preset: str, values: dict, steps: int, every: int = 50) -> dict:
    """Train until test accuracy reaches 0.95 or `steps` run out; the app's own metrics."""
    import torch

    from .grokking import GrokkingStudy
    from ..runtime.runner import Runner, RunnerState

    torch.set_num_threads(1)            # one worker per core
    runner = Runner(GrokkingStudy(preset=preset, **values), snapshot_every=every, ring_capacity=4,
                    observe_inline=True)
    started = time.perf_counter()
    grokked = memorised = math.nan
    seen = 0
    while runner.step < steps and math.isnan(grokked):
        runner.run_headless(min(every, steps - runner.step))
        if runner.state == RunnerState.ERROR or runner.message:
            break
        rows = runner.history.since(seen)            # only the rows this chunk recorded
        seen += len(rows)
        for row in rows:
            if math.isnan(memorised) and row.get("acc.train", 0) >= 0.99:
                memorised = row["step"]
            if row.get("acc.test", 0) >= 0.95:
                grokked = row["step"]
                break
    last = runner.history.since(len(runner.history) - 1)[0]
    runner.stop()
    return {"steps_to_grok": float(grokked), "steps_to_memorise": float(memorised),
            "acc.test": float(last.get("acc.test", math.nan)), "acc.train": float(last.get("acc.train", math.nan)),
            "steps": float(runner.step), "seconds": time.perf_counter() - started}


def hopfield_point(preset: str, values: dict, steps: int, every: int = 0) -> dict:
    """Retrieval success of random patterns at load α = P/N and query noise (the preset's network)."""
    import torch

    from ..analysis.hopfield import success_rate
    from .hopfield import HopfieldStudy

    torch.set_num_threads(1)
    values = dict(values)
    load, noise = float(values.pop("load", 0.1)), float(values.pop("noise", 0.1))
    c = HopfieldStudy.validated({**HopfieldStudy.preset_values(preset), **values})
    units = c.n_units
    started = time.perf_counter()
    rate = success_rate(c.network, units, max(1, round(load * units)), noise, trials=2, queries=32,
                        degree=c.degree, beta=c.beta, rule=c.rule, seed=c.seed)
    return {"success": float(rate), "seconds": time.perf_counter() - started}
