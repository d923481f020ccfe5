"""One full-batch training step replayed as a CUDA graph.

A small model's step on a GPU is a few dozen tiny kernels; launching them from Python costs
more than running them (grokking's MLP on an H100: 784 steps/s eager, 4329 replayed; see
benchmarks/RESULTS.md). A graph records the launches once and replays them with one call.

The first step after (re)building is an ordinary eager step: it creates the gradients and the
optimiser's state at fixed addresses. The next call records the step (recording runs nothing)
and replays it; every later call only replays. Anything the graph baked in — a learning rate,
weight decay, new optimiser state from a load — needs `invalidate()`: the next call steps eagerly
and records again. Training is the same sequence of steps as without the graph.
"""
from __future__ import annotations

from typing import Callable

import torch


class GraphedStep:
    """`loss_and_step()`: forward, backward and `optimizer.step()` on fixed tensors; returns the loss.
    The optimiser must be built with `capturable=True` (its step counter lives on the GPU)."""

    def __init__(self, loss_and_step: Callable[[], torch.Tensor], optimizer: torch.optim.Optimizer):
        self.loss_and_step = loss_and_step
        self.optimizer = optimizer
        self.graph: torch.cuda.CUDAGraph | None = None
        self.loss: torch.Tensor | None = None   # written by every replay
        self._primed = False
        self.recordings = 0

    def invalidate(self) -> None:
        self.graph, self.loss, self._primed = None, None, False

    def _step_eagerly(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=False)
        return self.loss_and_step().detach()

    def __call__(self) -> torch.Tensor:
        if not self._primed:
            self._primed = True
            return self._step_eagerly()
        if self.graph is None:
            torch.cuda.synchronize()
            graph = torch.cuda.CUDAGraph()
            # thread_local: the observer and landscape threads may use the GPU meanwhile (not recorded).
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                self.loss = self._step_eagerly()
            self.graph = graph
            self.recordings += 1
        self.graph.replay()
        return self.loss.clone()   # the next replay overwrites self.loss
