"""What every study provides to the Runner, and the registry that finds studies by name."""
from __future__ import annotations

import copy
from typing import ClassVar

import numpy as np
import param
import torch

from ..runtime.device import resolve_device
from ..runtime.stopping import NeverStopped, Stopped
from .cost import Cost, check_cost

STUDIES: dict[str, type["Study"]] = {}


def register(cls: type["Study"]) -> type["Study"]:
    STUDIES[cls.name] = cls
    return cls


def get_study(name: str) -> type["Study"]:
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; choose one of {', '.join(sorted(STUDIES))}")
    return STUDIES[name]


class StudyConfig(param.Parameterized):
    """Base of every study config: the same class drives widgets, the CLI and the URL."""

    seed = param.Integer(default=0, bounds=(0, 2**31 - 1), doc="Seed for data split and initial weights.")
    device = param.Selector(default="auto", objects=["auto", "cpu", "cuda", "mps"],
                            doc="Where to train: auto picks cuda, then mps, then cpu.")

    def values(self) -> dict:
        return {k: v for k, v in self.param.values().items() if k != "name"}

    def check(self) -> None:
        """Cross-field validation; raise ValueError with a message a student can act on.
        Subclasses extend it and call super().check()."""
        resolve_device(self.device)  # 'cuda' without a GPU is refused here, not mid-build
        check_cost(self.cost())      # before anything is built: a link cannot take the server's memory

    def cost(self) -> Cost:
        """The memory and work this configuration needs, from its values alone (studies/cost.py).
        Default: nothing worth counting."""
        return Cost(0.0)


class Study:
    """A trainable experiment: build() / step() -> loss / snapshot() -> (scalars, arrays).

    Subclasses set `name`, `Config`, `PRESETS` (name → parameter values) and `LIVE`
    (parameters that may change mid-run and take effect on the next step).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    Config: ClassVar[type[StudyConfig]] = StudyConfig
    PRESETS: ClassVar[dict[str, dict]] = {}
    # One sentence per preset, shown under the preset menu: what to watch, what it costs.
    PRESET_NOTES: ClassVar[dict[str, str]] = {}
    DEFAULT_PRESET: ClassVar[str] = ""
    LIVE: ClassVar[tuple[str, ...]] = ()
    # Live parameters that change only what a snapshot shows (e.g. how a flow is sampled): a
    # change re-observes at once, also while paused.
    OBSERVED: ClassVar[tuple[str, ...]] = ()
    # Live parameters set by clicking a view rather than by a widget (e.g. a selected neuron).
    SELECTION: ClassVar[tuple[str, ...]] = ()
    # Controls shown with the live ones whose change starts the run again at once (Reset with the
    # new value, running on if it was), e.g. the query of a retrieval.
    RESTART: ClassVar[tuple[str, ...]] = ()
    # Seconds from the start of one step to the next when a Runner's thread trains (a headless run
    # never waits): an animation's frame. 0: as fast as the machine goes.
    step_period: float = 0.0
    # Set by a study that has nothing left to do: the Runner pauses and shows finished_message.
    finished: bool = False
    finished_message: str = ""
    # Snapshot scalars shown in the status bar: key → short label.
    HEADLINE: ClassVar[dict[str, str]] = {}
    # The app pages that show it (apps/<name>.py), the first its own: the gallery, the screenshots and
    # the tests find every study's pages from here (tests/test_registry.py).
    APPS: ClassVar[tuple[str, ...]] = ()
    # Settings small enough that a step and a snapshot take milliseconds: what the contract tests use.
    TINY: ClassVar[dict] = {}
    # What one point of a sweep over its settings measures (a runtime.sweep.Measure), or None: no sweep.
    SWEEP: ClassVar = None
    # Set by the Runner (a threading.Event) and set when the run is stopped; loops that can run for
    # long (e.g. training a source model inside build()) call check_stop() every iteration.
    stop_event = NeverStopped()

    def check_stop(self) -> None:
        if self.stop_event.is_set():
            raise Stopped()

    def __init__(self, preset: str | None = None, **params):
        self.config = self.Config()
        self.preset = preset or self.DEFAULT_PRESET
        self.configure(**{**self.preset_values(self.preset), **params})

    @classmethod
    def preset_values(cls, preset: str) -> dict:
        if not preset:
            return {}
        if preset not in cls.PRESETS:
            raise ValueError(f"unknown preset {preset!r} for {cls.name}; choose one of {', '.join(cls.PRESETS)}")
        return dict(cls.PRESETS[preset])

    @classmethod
    def validated(cls, values: dict) -> StudyConfig:
        """A Config holding `values`, checked by param's bounds and the cross-field check();
        raises ValueError with a message. The one validation the widgets, links and runs share."""
        candidate = cls.Config(**values)
        candidate.check()
        return candidate

    def configure(self, preset: str | None = None, **params) -> None:
        """Apply a preset and/or values all-or-nothing: on a bad value nothing changes."""
        values = {**(self.preset_values(preset) if preset else {}), **params}
        candidate = self.validated({**self.config.values(), **values})
        self.config.param.update(**{k: v for k, v in candidate.values().items()
                                    if v != getattr(self.config, k)})
        if preset:
            self.preset = preset

    def set_param(self, name: str, value) -> None:
        if name not in self.LIVE:
            raise ValueError(f"{name!r} cannot change during a run; press Reset to apply it")
        self.configure(**{name: value})
        self.apply_live(name, getattr(self.config, name))

    # ---- to implement ------------------------------------------------------------
    def apply_live(self, name: str, value) -> None:
        """Push a changed live parameter into the optimiser (or wherever it lives)."""

    def build(self) -> None:
        raise NotImplementedError

    def step(self) -> float | torch.Tensor:
        """One optimisation step; returns its loss. A 0-d tensor may stay on its device: the
        Runner reads it back only when a snapshot is due, so a GPU step never waits for the CPU."""
        raise NotImplementedError

    def capture(self):
        """A cheap, consistent copy of what observe() needs, taken on the training thread
        between steps (e.g. cloned weights). Default: nothing; observe() reads live state."""
        return None

    def observe(self, captured) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Scalars and numpy arrays from a capture; may run on another thread while training goes on."""
        return self.snapshot()

    def snapshot(self) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Observe the current state directly (single-threaded use)."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Tensors to save with a run (model weights); plain tensors only, no pickled objects."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what state_dict() returned, after build()."""


class TorchStudy(Study):
    """A study that trains `self.model` with `self.optimizer` and observes a copy, `self.shadow`.

    Subclasses build those three in build() (`self.shadow = self.make_shadow()`), and read the
    weights to observe with `self.load_shadow(captured)`.
    """

    def make_shadow(self):
        # The observer evaluates this copy, so analysis never races the optimiser's in-place updates.
        return copy.deepcopy(self.model).requires_grad_(False)

    def apply_live(self, name: str, value) -> None:
        """Optimiser hyperparameters (lr, weight_decay, …) go straight into its param groups."""
        for group in self.optimizer.param_groups:
            if name in group:
                group[name] = value

    def landscape_probe(self):
        """The loss the landscape view slices (a `LandscapeProbe` on a fixed batch, built after
        build()), or None: no landscape for this study."""
        return None

    def capture_extra(self) -> dict:
        """Training-thread values a snapshot reports besides the weights (e.g. the last gradient norm)."""
        return {}

    def observed_model(self):
        """The module whose weights snapshots show: the trained model, or e.g. its moving average."""
        return self.model

    @torch.no_grad()
    def capture(self) -> dict:
        group = self.optimizer.param_groups[0]
        return {"weights": {k: v.detach().clone() for k, v in self.observed_model().state_dict().items()},
                "hparams": {k: float(group[k]) for k in ("lr", "weight_decay") if k in group},
                "optimizer": self.capture_optimizer(),
                **self.capture_extra()}

    def capture_optimizer(self) -> dict:
        """What the landscape's sharpness needs of the optimizer (LandscapeTracker.record): for the
        Adam family its second moment `exp_avg_sq` by parameter name (None before the first step),
        `step`, `betas`, `eps`; otherwise its `momentum` (0 without). The clone costs as much as the
        weights' and is taken with them, so P belongs to the very weights the landscape is centred on."""
        group = self.optimizer.param_groups[0]
        if "betas" not in group:
            return {"momentum": float(group.get("momentum", 0.0))}
        names = {id(p): name for name, p in self.model.named_parameters()}
        states = [(names.get(id(p)), self.optimizer.state.get(p, {})) for g in self.optimizer.param_groups
                  for p in g["params"]]
        second = {name: state["exp_avg_sq"].detach().clone() for name, state in states
                  if name is not None and "exp_avg_sq" in state}
        # A capturable Adam keeps `step` on the device: cloned, not read, so capture never waits on the GPU.
        step = next((state["step"] for _, state in states if "step" in state), 0.0)
        step = step.detach().clone() if torch.is_tensor(step) else float(step)
        return {"exp_avg_sq": second or None, "step": step, "betas": tuple(map(float, group["betas"])),
                "eps": float(group["eps"])}

    def landscape_inputs(self, captured: dict) -> tuple[dict, float, dict | None]:
        """What the landscape tracker needs of a capture: the weights, the learning rate and the
        optimizer's state (for the preconditioned sharpness), so that the Runner never reads the
        layout of the capture."""
        return captured["weights"], captured["hparams"].get("lr", float("nan")), captured.get("optimizer")

    def load_shadow(self, captured: dict):
        self.shadow.load_state_dict(captured["weights"])
        return self.shadow

    def snapshot(self):
        return self.observe(self.capture())

    def state_dict(self) -> dict:
        return {"model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
                "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        built = [group.get("capturable", False) for group in self.optimizer.param_groups]
        self.optimizer.load_state_dict(state["optimizer"])
        # A run saved from a CUDA-graphed optimiser loads into a plain one and back: each keeps how it was built.
        for group, capturable in zip(self.optimizer.param_groups, built):
            group["capturable"] = capturable
            for p in group["params"]:
                step = self.optimizer.state.get(p, {}).get("step")
                if torch.is_tensor(step):
                    self.optimizer.state[p]["step"] = step.to(p.device if capturable else "cpu", torch.float32)
