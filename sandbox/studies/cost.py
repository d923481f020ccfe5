"""What a configuration costs, estimated from its settings alone, before anything is built.

A served process builds and observes every session's model on its own threads, so one link with
in-bounds but huge settings could take gigabytes or minutes of the shared machine. Each study's
Config estimates its `Cost` (`StudyConfig.cost()`), and `StudyConfig.check()` refuses one over the
budget with a message naming the settings to lower, like any other bad input. The estimates are
deliberately rough upper bounds: training, snapshots and the landscape run on threads of their own,
so their peaks are added (measured peaks are 0.6-0.9 × the estimate; see each `cost()`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..runtime.landscape import CHUNK as LANDSCAPE_CHUNK

FLOAT = 4                     # bytes of a float32
# One run's peak memory: a served process holds many sessions in a few GB, so one may use at most this
# (the largest preset, grokking's nanda2023 with its landscape, peaks at 1.3 GB measured).
MEMORY_ENV, MEMORY_GB = "SANDBOX_MAX_MEMORY_GB", 2.0
# Work done in one piece (a build, a snapshot), in floating-point operations: ~2e12 is a minute or two
# of a CPU core, the most a page should wait before it shows its first picture.
WORK_ENV, WORK_TFLOP = "SANDBOX_MAX_WORK_TFLOP", 2.0
# A training step of a tiny model still costs ~0.5 ms of Python and optimiser overhead on a CPU; counted
# as this many operations, so that a long loop of tiny steps is not free.
STEP_OVERHEAD = 1e6


@dataclass(frozen=True)
class Cost:
    """`memory`: peak bytes held at once; `work`: operations of the longest piece done without a
    pause (a build, a snapshot). `memory_from` / `work_from`: the settings that drive each."""
    memory: float
    work: float = 0.0
    memory_from: tuple[str, ...] = ()
    work_from: tuple[str, ...] = ()

    def times(self, n: int, setting: str) -> "Cost":
        """The cost of n copies trained together (an ensemble of `setting` members)."""
        return Cost(self.memory * n, self.work * n, (setting, *self.memory_from), (setting, *self.work_from))


def landscape_memory(rows: int, floats_per_row: float) -> float:
    """Bytes of the loss landscape's evaluation (runtime/landscape.py), on a thread of its own and so on
    top of training and snapshots: LANDSCAPE_CHUNK weight points at once, each running the probe's
    `rows` inputs through the model (activations, outputs and the loss's intermediates: ~3 copies;
    measured 2.7 for grokking's transformer)."""
    return FLOAT * 3 * LANDSCAPE_CHUNK * rows * floats_per_row


def _budget(env: str, default: float) -> float:
    text = os.environ.get(env, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ValueError(f"{env}={text!r}: give a positive number")
    return value


def memory_budget() -> float:
    """Bytes one run may hold (SANDBOX_MAX_MEMORY_GB, for a bigger server)."""
    return _budget(MEMORY_ENV, MEMORY_GB) * 1e9


def work_budget() -> float:
    """Operations one build or snapshot may take (SANDBOX_MAX_WORK_TFLOP)."""
    return _budget(WORK_ENV, WORK_TFLOP) * 1e12


def _settings(names: tuple[str, ...]) -> str:
    names = tuple(dict.fromkeys(names))
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def check_cost(cost: Cost, what: str = "this configuration") -> None:
    """Raise ValueError, naming the settings to lower, if `cost` is over the server's budget."""
    memory, work = memory_budget(), work_budget()
    if cost.memory > memory:
        raise ValueError(f"{what} needs about {cost.memory / 1e9:.1f} GB of memory at once; this server allows "
                         f"{memory / 1e9:.1f} GB per run ({MEMORY_ENV}). Lower {_settings(cost.memory_from)}.")
    if cost.work > work:
        raise ValueError(f"{what} needs about {cost.work / 1e12:.1f} TFLOP in one piece (minutes of a CPU); this "
                         f"server allows {work / 1e12:.1f} ({WORK_ENV}). Lower {_settings(cost.work_from)}.")
