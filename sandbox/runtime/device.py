"""Device choice: `auto` prefers cuda, then mps, then cpu."""
from __future__ import annotations

import os
import sys
import threading

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is visible")
    return torch.device(name)


def configure_cpu_threads() -> int:
    """Leave one core to the server so the page stays responsive while a model trains."""
    threads = max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(threads)
    return threads


BACKGROUND_NICENESS = 10


def lower_thread_priority(niceness: int = BACKGROUND_NICENESS) -> bool:
    """Make the calling thread yield the CPU to the server's event loop (Linux: a per-thread nice value).

    Training, observing and landscape threads are always ready to run; at equal priority the OS
    shares the cores evenly among them and the event loop, which answers every page. Niced, they
    take what the event loop leaves. Measured with 8 pages in a local Chromium and 2 sessions
    training on 2 cores: the slowest answer 1.3-2.0 s -> 0.9-1.1 s, 90% within 0.23-0.31 s -> 0.13 s.
    Returns whether the priority was lowered (elsewhere a no-op: False).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:    # relative to the process's (its main thread's) nice: the same for a thread started by a lowered one
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                       min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + niceness))
    except OSError:
        return False
    return True
