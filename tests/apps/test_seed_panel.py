"""The seed-spread panel of the grokking app, without a browser. Run: pytest tests/apps/test_seed_panel.py"""
import numpy as np

from sandbox.runtime.slots import TrainerSlots
from sandbox.ui.seeds import SeedSpreadPanel
from tests.apps.conftest import opened_app
from tests.conftest import wait_until


def seed_panel(app) -> SeedSpreadPanel:
    return next(item for row in app.rows for item in row if isinstance(item, SeedSpreadPanel))


def test_seeds_train_together_and_show_their_curves_and_frequencies(tmp_path):
    with opened_app("grokking", tmp_path) as app:
        panel = seed_panel(app)
        panel.seeds.value, panel.steps.value = 3, 60
        panel.run()
        assert panel.run_button.disabled and not panel.stop_button.disabled
        assert panel.wait(60)
        panel.tick()
        curves = panel.curves_source.data
        assert len(curves["ys"]) == 3 and curves["xs"][0][-1] == 60 and len(curves["xs"][0]) == len(curves["ys"][0])
        assert np.all((np.array(curves["ys"]) >= 0) & (np.array(curves["ys"]) <= 1))
        # p = 11 has 5 frequencies and each seed reports its 5 strongest: every k counts every seed.
        assert list(panel.wins_source.data["k"]) == [1, 2, 3, 4, 5] and list(panel.wins_source.data["seeds"]) == [3] * 5
        assert panel.spread.seeds.tolist() == [0, 1, 2]           # the app's seed, then the next ones
        assert "Done" in panel.status.object and not panel.run_button.disabled


def test_stop_ends_the_seeds_early_and_a_transformer_is_refused(tmp_path):
    with opened_app("grokking", tmp_path) as app:
        panel = seed_panel(app)
        panel.seeds.value, panel.steps.value = 2, 100_000
        panel.run()
        panel.stop()
        assert panel.wait(60)
        panel.tick()
        assert panel.spread is not None and panel.spread.steps[-1] < 100_000
        app.controller.settings.model = "transformer"
        panel.run()
        assert "Not started" in panel.status.object and "MLP" in panel.status.object


def test_a_forged_seed_count_past_the_inputs_bound_is_refused_on_the_server(tmp_path):
    with opened_app("grokking", tmp_path) as app:
        panel = seed_panel(app)
        panel.seeds.value = 10_000          # what a forged request does: the browser's bound is not checked here
        panel.run()
        assert "Not started" in panel.status.object and "256" in panel.status.object
        assert panel._thread is None and not panel.run_button.disabled    # nothing built, nothing started


def test_seeds_too_big_together_are_refused_by_the_cost_check_before_anything_is_built(tmp_path):
    with opened_app("grokking", tmp_path) as app:
        panel = seed_panel(app)
        app.controller.settings.param.update(p=211, width=2048)
        panel.seeds.value = 8               # measured: 9 GB at its peak
        panel.run()
        assert "Not started" in panel.status.object and "GB" in panel.status.object
        assert panel._thread is None


def test_the_seeds_wait_for_a_trainer_slot_say_so_and_start_when_one_frees(tmp_path):
    with opened_app("grokking", tmp_path) as app:
        panel = seed_panel(app)
        panel.slots = slots = TrainerSlots(1)
        busy = object()
        assert slots.acquire(busy, wake=lambda: None)       # another session trains
        panel.seeds.value, panel.steps.value = 2, 60
        panel.run()
        wait_until(lambda: panel.waiting, timeout=30, what="the seeds queued")
        panel.tick()
        assert "Waiting" in panel.status.object and not panel.measured[0]
        slots.release(busy)
        assert panel.wait(60)
        panel.tick()
        assert panel.spread is not None and "Done" in panel.status.object
        assert slots.training == 0                          # the slot went back


def test_seeds_stopped_while_waiting_leave_the_line(tmp_path):
    with opened_app("grokking", tmp_path) as app:
        panel = seed_panel(app)
        panel.slots = slots = TrainerSlots(1)
        assert slots.acquire(object(), wake=lambda: None)
        panel.seeds.value, panel.steps.value = 2, 60
        panel.run()
        wait_until(lambda: panel.waiting, timeout=30, what="the seeds queued")
        panel.stop()
        assert panel.wait(10)
        panel.tick()
        assert slots.waiting == 0 and panel.spread is None and "Stopped" in panel.status.object
