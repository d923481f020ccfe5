"""The Runner: one study, one daemon thread, commands in, snapshots out.

The UI never calls into the study. It sends commands (start, pause, step n, reset,
set a parameter), which the thread applies *between* optimisation steps, and it reads
the latest Snapshot from a one-slot mailbox. Everything the thread raises is caught and
turned into the `error` state with a message; Reset recovers.
"""
from __future__ import annotations

import math
import queue
import threading
import time
from enum import Enum
from typing import Any, Callable

from .device import lower_thread_priority
from .faults import from_environment
from .landscape import LandscapeTracker
from .observer import Observer
from .rate import StepRate
from .recording import Recording
from .slots import NO_PERMITS
from .snapshot import Snapshot
from .stopping import Stopped
from .store import RunRecord, RunStoreError, save_run


class RunnerState(str, Enum):
    IDLE = "idle"          # built, waiting for Start
    RUNNING = "running"
    QUEUED = "queued"      # wants to train, waiting for a free trainer slot (TrainerSlots)
    PAUSED = "paused"
    ERROR = "error"        # the last step raised; Reset recovers
    STOPPED = "stopped"    # the thread is gone (session closed)


class Runner:
    """Owns one study (anything with build/step/snapshot/set_param, see studies/base.py).

    Thread-safe public surface: the command methods, `state`, `message`, `step`,
    `run_id`, `steps_per_second`, and the `mailbox`, `history` and `ring` readers.
    """

    def __init__(self, study, snapshot_every: int = 10, ring_capacity: int = 120,
                 history_rows: int = 20_000, on_snapshot: Callable[[Snapshot], None] | None = None,
                 observe_inline: bool = False, landscape: bool = False, min_interval_s: float = 0.1,
                 slots=None, permits=NO_PERMITS):
        """`observe_inline`: build every due snapshot on the training thread (deterministic
        records for the CLI and tests). Otherwise a second thread observes, latest-wins,
        and the training loop only pays for a weight copy. `landscape`: keep a loss landscape of
        the run (studies with a `landscape_probe`) on a third thread; snapshots carry it.
        `min_interval_s`: in the background, snapshots due sooner than this after the last are
        skipped (the first steps' powers of two excepted): a fast model (a GPU's 800 steps/s) would
        otherwise keep the observer busy all the time for views that redraw a few times a second.
        `slots`: a TrainerSlots shared with other Runners (a served process): training waits in the
        `queued` state until one of its slots is free. `permits`: a WorkPermits shared likewise: building
        the model, each observation and each landscape computation wait for one of its permits (a page
        waiting to be built says so in `message`). Both may be set after construction, before the first
        command, as a served controller does."""
        if snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1")
        self.study = study
        self.snapshot_every = snapshot_every
        self.min_interval_s = min_interval_s
        self._published_at = 0.0
        self.observe_inline = observe_inline
        self._observer: Observer | None = None
        # Held while a run is rebuilt and while a capture is observed, so an observation
        # never sees a half-built study or lands in the next run's history.
        self._run_lock = threading.Lock()
        self.recording = Recording(history_rows=history_rows, ring_capacity=ring_capacity)
        # What the views read: the recording's own objects (a new run clears them, never replaces them).
        self.mailbox, self.history, self.ring = self.recording.mailbox, self.recording.history, self.recording.ring
        self.on_snapshot = on_snapshot
        self.state = RunnerState.IDLE
        self.message = ""
        self.run_id = 0
        self.step = 0
        self._pending_steps = 0
        self._rate = StepRate()
        self._commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._built = False
        self.saved_path = None
        self._stopping = False
        # Set by stop(); the study's long loops (a source model trained inside build()) check it.
        self._stop_event = threading.Event()
        study.stop_event = self._stop_event
        self.slots = slots
        self._resume_state = RunnerState.RUNNING   # what a queued run becomes when its slot comes
        self._fault = from_environment()   # a test hook; None unless SANDBOX_INJECT_FAULT is set
        self.landscape = (LandscapeTracker(on_result=self._on_landscape, on_error=self._on_landscape_error)
                          if landscape else None)
        self.permits = permits

    @property
    def permits(self):
        return self._permits

    @permits.setter
    def permits(self, permits) -> None:
        """The same pool for the build, the observer and the landscape tracker."""
        self._permits = permits
        for worker in (self._observer, self.landscape):
            if worker is not None:
                worker.permits = permits

    # ---- commands (any thread) -------------------------------------------------
    def start(self) -> None:
        self._send("start")

    def pause(self) -> None:
        self._send("pause")

    def step_n(self, n: int = 1) -> None:
        if int(n) < 1:
            raise ValueError("step count must be at least 1")
        self._send("step", int(n))

    def reset(self, **params) -> None:
        """Rebuild the study from its config, with `params` applied first; bumps run_id."""
        self._send("reset", params)

    def set_param(self, name: str, value) -> None:
        """Change a live hyperparameter; takes effect on the next step."""
        self._send("set", (name, value))

    def refresh(self) -> None:
        """Ask for a fresh snapshot now (e.g. after a selection changed what it holds)."""
        self._send("snapshot")

    def stop(self, timeout: float = 5.0) -> None:
        """End the threads (session closed). Idempotent."""
        self._stopping = True
        self._stop_event.set()
        if self.landscape is not None:       # first: a surface finished now would ask for a refresh
            self.landscape.stop(timeout)
        self._commands.put(("stop", None))
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if self._observer is not None:
            self._observer.stop(timeout)
        self.state = RunnerState.STOPPED

    def wait_observed(self, timeout: float = 30.0) -> bool:
        """Block until every capture so far is a Snapshot (tests, save)."""
        return self._observer is None or self._observer.drain(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def steps_per_second(self) -> float:
        return self._rate.value if self.state == RunnerState.RUNNING else 0.0

    def _send(self, name: str, arg: Any = None) -> None:
        if self.state == RunnerState.STOPPED:
            raise RuntimeError("this runner was stopped; create a new one")
        self._commands.put((name, arg))
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self._thread_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="sandbox-runner", daemon=True)
                self._thread.start()

    # ---- the training thread ---------------------------------------------------
    def _loop(self) -> None:
        lower_thread_priority()
        next_step_at = 0.0       # a paced study (an animation) takes its next step no sooner
        try:
            while True:
                busy = self._has_slot_to_train()
                wait = next_step_at - time.perf_counter()
                try:
                    # Block while idle (or queued) so a paused session costs no CPU; between the steps of
                    # a paced study wait for the next frame, but take a command (Pause) at once.
                    command = (self._commands.get() if not busy else self._commands.get(timeout=wait) if wait > 0
                               else self._commands.get_nowait())
                except queue.Empty:
                    command = None
                if command is not None:
                    if command[0] == "stop":
                        return
                    self._guarded(self._apply, *command)
                    if command[0] in ("start", "step"):
                        next_step_at = 0.0       # asked for a step now: it does not wait for the frame
                    continue  # drain every queued command before the next step
                if busy:
                    started = time.perf_counter()
                    self._guarded(self._advance)
                    next_step_at = started + self.study.step_period
        except Stopped:
            return       # a long loop saw stop(): the session is gone, nothing to report
        finally:
            if self.slots is not None:
                self.slots.release(self)

    def _has_slot_to_train(self) -> bool:
        """Whether to take a step now: the run wants to train and (with slots) holds one. Joins the
        line, leaves it, or gives the slot back as the run's wish to train comes and goes."""
        wants = self.state in (RunnerState.RUNNING, RunnerState.QUEUED) or self._pending_steps > 0
        if self.slots is None:
            return wants
        if not wants:
            self.slots.release(self)
            return False
        if self.slots.acquire(self, wake=self._slot_freed):
            if self.state == RunnerState.QUEUED:   # the message goes first: readers see state, then it
                self.message = ""
                self._rate.reset()
                self.state = self._resume_state
            return True
        if self.state != RunnerState.QUEUED:
            self._resume_state = self.state if self.state == RunnerState.RUNNING else RunnerState.PAUSED
            self.message = (f"Queued: every trainer of this server is busy ({self.slots.capacity} at a time). "
                            "Yours starts by itself when one of them pauses or its tab closes.")
            self.state = RunnerState.QUEUED
        return False

    def _slot_freed(self) -> None:
        """Called by TrainerSlots (on the thread that freed it) when a slot is this run's: wake the loop."""
        self._commands.put(("slot", None))

    @property
    def queue_position(self) -> int:
        """1 for the first run in line for a trainer slot; 0 when not waiting."""
        return self.slots.position(self) if self.slots is not None else 0

    def _guarded(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - any failure must reach the UI, not kill the thread
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        self._pending_steps = 0
        self.state = RunnerState.ERROR
        self.message = f"{type(exc).__name__}: {exc}. Press Reset to start again."

    def _apply(self, name: str, arg: Any) -> None:
        if name == "slot":
            return  # a freed trainer slot is ours now: the loop picks it up
        if name == "reset":
            self._rebuild(arg)
            return
        if name == "load":
            self._load(arg)
            return
        if name == "save":
            self._save(*arg)
            return
        if self.state == RunnerState.ERROR and name != "set":
            return  # only Reset (or fixing a parameter) leaves the error state
        self._ensure_built()
        if name == "start":
            if self.state != RunnerState.QUEUED:
                self.state, self.message = RunnerState.RUNNING, ""
        elif name == "pause":
            self._pending_steps = 0
            if self.state == RunnerState.QUEUED:    # leaves the line
                self.message, self.state = "", RunnerState.PAUSED
            elif self.state == RunnerState.RUNNING:
                self.state = RunnerState.PAUSED
                self._publish()
        elif name == "step":
            self._pending_steps += arg
            if self.state == RunnerState.QUEUED:
                self._resume_state = RunnerState.PAUSED
            else:
                self.state = RunnerState.PAUSED
        elif name == "set":
            try:
                self.study.set_param(*arg)
            except ValueError as exc:  # a bad value is refused; training goes on
                self.message = f"Not applied: {exc}"
        elif name == "snapshot":
            self._publish()

    def save(self, root, name: str | None = None) -> None:
        """Write the run (history, snapshots, weights) under `root`; `saved_path` tells where."""
        self._send("save", (root, name))

    def record(self) -> RunRecord:
        """The run as a RunRecord. Call on the training thread (or when it is idle): reads weights."""
        return self.recording.to_record(self.study)

    def _save(self, root, name) -> None:
        self._ensure_built()
        self.wait_observed()
        record = self.record()
        try:
            path = save_run(root, record, name)
        except (OSError, RunStoreError) as exc:  # a full disk or a bad name: say so, keep training
            self.message = f"Could not save: {exc}"
            return
        self.saved_path = path
        self.message = f"Saved {len(record.rows)} metric rows, {len(record.snapshots)} snapshots and the weights to {path}."

    def load(self, record) -> None:
        """Replace the run with a saved one (a RunRecord): its history, snapshots and weights."""
        self._send("load", record)

    def _load(self, record, restoring: bool = False) -> None:
        previous = None                  # the run on screen, kept in case the file does not fit
        if not restoring and self._built:
            self.wait_observed()         # with its last steps' rows (without, it came back 2 steps short)
            previous = self.record()
        if not self._rebuild(record.params):
            self.message = f"Could not load: {self.message}"
            return
        self.study.preset = record.preset
        self.wait_observed()
        if record.state:
            try:
                self.study.load_state_dict(record.state)
            except Exception as exc:  # noqa: BLE001 - any misfit (an AttributeError too) brings the old run back
                if previous is None:
                    raise
                self._load(previous, restoring=True)        # back to the run that was on screen
                name = record.path.name if record.path is not None else "the saved run"
                detail = str(exc).splitlines()[0][:300]
                self.message = (f"Could not load {name}: its weights do not fit its settings ({type(exc).__name__}: "
                                f"{detail}). The run you had is back.")
                return
        self.step = self.recording.restore(record, self.run_id)
        self.state = RunnerState.PAUSED
        name = record.path.name if record.path is not None else "saved run"
        self.message = f"Loaded {name} at step {self.step}."

    def _ensure_built(self) -> None:
        if not self._built:
            self._rebuild({})

    def _rebuild(self, params: dict) -> bool:
        """Configure and build a new run; False (with a message, the old run kept) on bad values."""
        try:
            self.study.configure(**params)
        except ValueError as exc:
            self.message = f"Not applied: {exc}"
            return False
        # The permit before the run lock, as the observer takes them: the other order could deadlock.
        # Waiting raises Stopped once the page closes: the thread ends, as from a long build.
        with self._permits.held(self._stop_event, waiting=self._waiting_to_build):
            self.message = ""
            self._build()
        self._publish()
        return True

    def _waiting_to_build(self, ahead: int) -> None:
        """Called by WorkPermits (under its lock) while this run waits for a permit to build."""
        n = self._permits.capacity
        line = f" ({ahead} {'page waits' if ahead == 1 else 'pages wait'} before this one)" if ahead else ""
        self.message = (f"Waiting for the server: it builds or analyses at most {n} model{'' if n == 1 else 's'} "
                        f"at a time, and all are busy{line}. This page's model is built as soon as one is done.")

    def _build(self) -> None:
        with self._run_lock:
            self.state = RunnerState.IDLE
            self._pending_steps = 0
            self.run_id += 1
            self.step = 0
            self._rate.reset()
            self.recording.clear()
            self.study.build()
            self._built = True
            if self.landscape is not None:
                probe = getattr(self.study, "landscape_probe", lambda: None)()
                self.landscape.begin(self.run_id, probe)
            self.message = ""

    def _advance(self) -> None:
        self._ensure_built()
        loss = self.study.step()
        if self._fault is not None:
            loss = self._fault.after_step(self.step + 1, loss)
        self.step += 1
        self._rate.mark(self.step)
        if self._pending_steps > 0:
            self._pending_steps -= 1
        # A loss left on the GPU is read back only when a snapshot is due or a Step ×N ends: reading
        # it every step would make the CPU wait for the GPU at every step (a float costs nothing).
        if self._loss_is_read_now(loss) and not math.isfinite(loss := float(loss)):
            self._pending_steps = 0
            self.state = RunnerState.PAUSED
            self._publish()
            self.message = (f"Loss became {loss} at step {self.step}; paused. "
                            "Lower the learning rate, or press Reset.")
            return
        if self.study.finished and self._training:
            # Nothing left to do (e.g. a retrieval converged and its experiments are done):
            # stop spinning, say so, show the final state.
            self._pending_steps = 0
            self.state = RunnerState.PAUSED
            self._publish()
            self.message = self.study.finished_message
            return
        if self._step_n_ended:
            self._publish()  # the end of Step ×N is always shown
        elif self._due(self.step) and self._observer_can_take_one:
            self._publish()

    @property
    def _training(self) -> bool:
        """Running, or in the middle of a Step ×N."""
        return self.state == RunnerState.RUNNING or self._pending_steps > 0

    @property
    def _step_n_ended(self) -> bool:
        """The step just taken was the last one asked for (Step ×N, or a single step while paused)."""
        return self._pending_steps == 0 and self.state != RunnerState.RUNNING

    def _loss_is_read_now(self, loss) -> bool:
        """A float costs nothing to check; a tensor (maybe on the GPU) is read only when a snapshot is due
        or a Step ×N ends."""
        return isinstance(loss, float) or self._due(self.step) or self._step_n_ended

    @property
    def _observer_can_take_one(self) -> bool:
        """Inline, always; in the background, when the observer is idle and the last snapshot is at least
        min_interval_s old (the first steps, before snapshot_every, always)."""
        if self.observe_inline or self._observer is None:
            return True
        return self._observer.idle and (self.step < self.snapshot_every
                                        or time.perf_counter() - self._published_at >= self.min_interval_s)

    def _due(self, step: int) -> bool:
        # Every `snapshot_every` steps, plus powers of two before that, so that the
        # first steps show up on a log-step axis.
        if step % self.snapshot_every == 0:
            return True
        return step < self.snapshot_every and step & (step - 1) == 0

    def _publish(self) -> None:
        """Capture now (training thread); observe inline or hand over to the observer."""
        training = self._training
        self._published_at = time.perf_counter()
        item = (self.run_id, self.step, self.study.capture(), training)
        if self.observe_inline:
            self._observe(item)
            return
        if self._observer is None:
            self._observer = Observer(self._observe, self._fail, permits=self._permits)
        self._observer.submit(item)

    def _observe(self, item) -> None:
        run_id, step, captured, training = item
        with self._run_lock:
            if run_id != self.run_id:
                return  # captured before a Reset: that run is gone
            scalars, arrays = self.study.observe(captured)
            if self.landscape is not None and hasattr(self.study, "landscape_inputs"):
                weights, lr, optimizer = self.study.landscape_inputs(captured)
                more_scalars, more_arrays = self.landscape.record(   # with Adam's state: its preconditioner
                    run_id, step, weights, lr, training, optimizer=optimizer)
                scalars, arrays = {**scalars, **more_scalars}, {**arrays, **more_arrays}
            snap = self.recording.add(run_id, step, scalars, arrays)
        if self.on_snapshot is not None:
            self.on_snapshot(snap)

    def _on_landscape(self) -> None:
        """A new surface (tracker thread): a paused run shows it now; a running one with its next snapshot.
        Only when the training thread runs: a headless run (run_headless) is driven by its caller."""
        if (self.alive and self.state in (RunnerState.PAUSED, RunnerState.IDLE) and self._pending_steps == 0
                and not self._stopping):
            try:
                self.refresh()
            except RuntimeError:
                pass  # stopped meanwhile

    def _on_landscape_error(self, exc: Exception) -> None:
        self.message = f"The loss landscape could not be computed ({type(exc).__name__}: {exc}); training goes on."

    # ---- synchronous use (CLI, tests) -----------------------------------------
    def run_headless(self, steps: int, publish_last: bool = True) -> Snapshot | None:
        """Train `steps` steps in the calling thread with the same recording as the app.

        With `publish_last`, the final step is always snapshotted (as on pause)."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("run_headless cannot be used while the background thread runs")
        inline, self.observe_inline = self.observe_inline, True  # synchronous: record every due step
        try:
            self._ensure_built()
            self.state = RunnerState.RUNNING
            for _ in range(steps):
                self._advance()
                if self.state != RunnerState.RUNNING:
                    break
            if self.state == RunnerState.RUNNING:
                self.state = RunnerState.PAUSED
                latest = self.mailbox.peek()
                if publish_last and (latest is None or latest.step != self.step):
                    self._publish()
        finally:
            self.observe_inline = inline
        return self.mailbox.peek()
