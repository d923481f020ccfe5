"""Ways to run one full-batch grokking step, timed: is Python overhead worth removing here?

- eager, loss read every step (`loss.item()`: the CPU waits for the GPU each step; what the
  studies did before issue 7),
- eager (the studies now: the loss stays on the device),
- `torch.compile` of the model (forward and backward fused; AdamW as it is),
- one CUDA graph of the whole step (forward, backward, AdamW with capturable state), replayed.

Run: python -m benchmarks.step_variants [--preset fast] [--device auto] [--steps 500]
Reported figures, not a test. Each variant starts from the same weights; after `--steps` steps
the final losses are printed too, so a variant that changes the arithmetic shows.
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from sandbox.runtime.device import configure_cpu_threads, resolve_device
from sandbox.studies.grokking import GrokkingStudy


def _fresh(preset: str, device: str, capturable: bool = False) -> GrokkingStudy:
    study = GrokkingStudy(preset=preset, device=device)
    study.build()
    if capturable:
        c = study.config
        study.optimizer = torch.optim.AdamW(study.model.parameters(), lr=c.lr, weight_decay=c.weight_decay,
                                            betas=(0.9, c.beta2), capturable=True)
    return study


def _timed(step, steps: int, device: torch.device) -> tuple[float, float]:
    """(steps/s, final loss) after `steps` steps, warm-up excluded."""
    for _ in range(5):
        step()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    sync()
    return steps / (time.perf_counter() - start), float(loss)


def eager_item(preset: str, device: str, steps: int):
    study = _fresh(preset, device)
    return _timed(lambda: float(study.step().item()), steps, study.device)


def eager(preset: str, device: str, steps: int):
    study = _fresh(preset, device)
    return _timed(study.step, steps, study.device)


def compiled(preset: str, device: str, steps: int):
    study = _fresh(preset, device)
    study.model = torch.compile(study.model)
    return _timed(study.step, steps, study.device)


def cuda_graph(preset: str, device: str, steps: int):
    study = _fresh(preset, device, capturable=True)
    model, optimizer = study.model, study.optimizer
    a, b, y = study.a_train, study.b_train, study.y_train

    def step():
        loss = F.cross_entropy(model(a, b), y)
        loss.backward()
        optimizer.step()
        return loss

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):          # warm-up off the default stream, as capture requires
        for _ in range(3):
            optimizer.zero_grad(set_to_none=False)
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=False)
    with torch.cuda.graph(graph):
        optimizer.zero_grad(set_to_none=False)
        static_loss = step()

    def replay():
        graph.replay()
        return static_loss
    return _timed(replay, steps, study.device)


VARIANTS = {"eager, loss.item() each step": eager_item, "eager (loss left on device)": eager,
            "torch.compile(model)": compiled, "CUDA graph of the whole step": cuda_graph}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--skip", nargs="*", default=[], help="variant names to leave out")
    args = parser.parse_args()
    configure_cpu_threads()
    device = resolve_device(args.device)
    on_gpu = device.type == "cuda"
    print(f"grokking {args.preset}, device {device.type}"
          f"{' (' + torch.cuda.get_device_name() + ')' if on_gpu else ''}, torch {torch.__version__}, {args.steps} steps")
    print("| variant | steps/s | final loss |")
    print("|---|---|---|")
    for name, variant in VARIANTS.items():
        if name in args.skip or (variant is cuda_graph and not on_gpu):
            continue
        try:
            rate, loss = variant(args.preset, args.device, args.steps)
            print(f"| {name} | {rate:.0f} | {loss:.4g} |", flush=True)
        except Exception as exc:  # noqa: BLE001 - report a variant that does not work here and go on
            print(f"| {name} | failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]} | |", flush=True)


if __name__ == "__main__":
    main()
