"""Seeds of the grokking MLP trained together (one vmapped pass) against one after another:
milliseconds per seed-step, and the seed spread of a short run.

Run: python -m benchmarks.ensemble_speed [--seeds 64] [--spread-seeds 8] [--spread-steps 1000]
Reported figures, not a test: timings depend on the machine (record it with the numbers).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from sandbox.runtime.device import configure_cpu_threads, resolve_device
from sandbox.studies.grokking import GrokkingStudy
from sandbox.studies.grokking_seeds import SeedEnsemble


def per_seed_step_ms(seeds: int, steps: int, device: str) -> tuple[float, float]:
    """(one by one, together) milliseconds per seed and step, fast preset."""
    studies = [GrokkingStudy(preset="fast", seed=s, device=device) for s in range(seeds)]
    for study in studies:
        study.build()
        study.step()
    sync = torch.cuda.synchronize if studies[0].device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        for study in studies:
            study.step()
    sync()
    alone = (time.perf_counter() - start) / (steps * seeds) * 1000
    ensemble = SeedEnsemble(seeds=seeds, device=device)
    ensemble.step()
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        ensemble.step()
    sync()
    together = (time.perf_counter() - start) / (steps * seeds) * 1000
    return alone, together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--spread-seeds", type=int, default=8)
    parser.add_argument("--spread-steps", type=int, default=1000)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    configure_cpu_threads()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), device "
          f"{resolve_device(args.device).type}")
    alone, together = per_seed_step_ms(args.seeds, args.steps, args.device)
    print(f"{args.seeds} seeds: {alone:.2f} ms per seed-step one by one, {together:.2f} together "
          f"({alone / together:.2f}×)")
    if args.spread_steps:
        start = time.perf_counter()
        spread = SeedEnsemble(seeds=args.spread_seeds, device=args.device).run(args.spread_steps)
        print(f"spread of {args.spread_seeds} seeds over {args.spread_steps} steps "
              f"({time.perf_counter() - start:.0f} s): grok steps {spread.grok_step.tolist()}")
        print("final test accuracy", np.round(spread.test_accuracy[:, -1], 3).tolist())
        print("key frequencies per seed", spread.key_frequencies.tolist())
        top = np.argsort(spread.frequency_wins)[::-1][:8]
        print("most shared frequencies (k: seeds)", {int(k): int(spread.frequency_wins[k]) for k in top})


if __name__ == "__main__":
    main()
