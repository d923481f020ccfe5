"""Test hooks: a fault injected into one training step, to prove the app survives it.

Switched on only by the environment variable SANDBOX_INJECT_FAULT, read when a Runner is made:
`exception@30` makes step 30 raise, `nan@30` makes its loss NaN. Each Runner fires its fault once
(the first run to reach that step), so Reset recovers, as it must from a real fault.
"""
from __future__ import annotations

import os

ENV = "SANDBOX_INJECT_FAULT"
KINDS = ("exception", "nan")


class InjectedFault(RuntimeError):
    """The exception a test hook raises inside a training step."""


class Fault:
    def __init__(self, kind: str, at_step: int):
        if kind not in KINDS or at_step < 1:
            raise ValueError(f"{ENV} reads kind@step with kind in {KINDS} and step ≥ 1")
        self.kind, self.at_step, self.fired = kind, at_step, False

    def after_step(self, step: int, loss):
        """The step's loss, or the fault if this is its step (once)."""
        if self.fired or step != self.at_step:
            return loss
        self.fired = True
        if self.kind == "exception":
            raise InjectedFault(f"injected fault at step {step} (test hook {ENV})")
        return float("nan")


def from_environment() -> Fault | None:
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    kind, _, step = text.partition("@")
    try:
        return Fault(kind.strip(), int(step))
    except ValueError:
        raise ValueError(f"{ENV}={text!r}: write e.g. exception@30 or nan@30") from None
