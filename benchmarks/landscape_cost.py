"""What one loss landscape costs per study: a 21 × 21 and a 41 × 41 slice, the sharpness and the
interpolation line, each on the study's default preset after 200 training steps, on the device the
study picks (one torch thread on a CPU).

Run: python -m benchmarks.landscape_cost [--steps 200]
Reported figures, not a test: timings depend on the machine (record it with the numbers).
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from sandbox.analysis.landscape import filter_normalized_direction, interpolation, loss_slice, top_hessian_eigenvalue
from sandbox.runtime.landscape import CHUNK, COARSE, FINE, SHARPNESS_ITERATIONS
from sandbox.studies.associative_memory import AssociativeMemoryStudy
from sandbox.studies.clustering import ClusteringStudy
from sandbox.studies.flow import FlowStudy
from sandbox.studies.grokking import GrokkingStudy

STUDIES = (GrokkingStudy, ClusteringStudy, FlowStudy, AssociativeMemoryStudy)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(study_cls, steps: int) -> dict:
    study = study_cls()
    study.build()
    for _ in range(steps):
        study.step()
    probe = study.landscape_probe()
    params = probe.parameters(dict(study.observed_model().named_parameters()))
    params = {name: p.detach() for name, p in params.items()}
    generator = torch.Generator().manual_seed(0)
    d1, d2 = (filter_normalized_direction({k: v.cpu() for k, v in params.items()}, generator) for _ in range(2))
    d1, d2 = ({k: v.to(params[k].device) for k, v in d.items()} for d in (d1, d2))

    def grid(n):
        axis = np.linspace(-1, 1, n)
        return lambda: loss_slice(probe.model, probe.loss_of_output, probe.inputs, d1, d2, axis, axis,
                                  chunk=CHUNK, center=params)
    start = {k: v * 0.5 for k, v in params.items()}
    return {"study": study_cls.name, "parameters": sum(p.numel() for p in params.values()),
            "batch": probe.label, "device": str(study.device),
            f"{COARSE}²": timed(grid(COARSE)), f"{FINE}²": timed(grid(FINE)),
            "sharpness": timed(lambda: top_hessian_eigenvalue(probe.loss_of_params, params,
                                                              iterations=SHARPNESS_ITERATIONS, tol=1e-3)),
            "line": timed(lambda: interpolation(probe.model, probe.loss_of_output, probe.inputs, start,
                                                steps=FINE, end=params))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps before measuring")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, one thread")
    print(f"| study | parameters | probe batch | {COARSE}×{COARSE} s | {FINE}×{FINE} s | sharpness s | line s |")
    print("|---|---|---|---|---|---|---|")
    for cls in STUDIES:
        r = measure(cls, args.steps)
        print(f"| {r['study']} | {r['parameters']:,} | {r['batch']} | {r[f'{COARSE}²']:.2f} | {r[f'{FINE}²']:.2f} "
              f"| {r['sharpness']:.2f} | {r['line']:.2f} |")


if __name__ == "__main__":
    main()
