"""The grokking app without a server: views fed through the controller, widgets driven by value.
Run: pytest tests/apps/test_grokking_app.py"""
import numpy as np
import torch

from sandbox.runtime import RunnerState
from tests.apps.conftest import app_fixture
from tests.conftest import wait_until


app = app_fixture("grokking")


def test_tick_feeds_every_view(app):
    c = app.controller
    c.runner.run_headless(15)
    c.tick()
    assert c.step == 15 and c.state == "paused"
    accuracy, loss = c.views[0], c.views[1]
    assert list(accuracy.source.data["step"]) == [1, 2, 4, 8, 10, 15]  # step 0 has no place on a log axis
    grid = next(v for v in c.views if getattr(v, "key", None) == "grid.correct")
    assert grid.source.data["image"][0].shape == (11, 11)
    c.runner.run_headless(5)
    c.tick()
    assert list(accuracy.source.data["step"])[-1] == 20  # streamed, not rebuilt
    assert "paused" in c.status.object and "20" in c.status.object


def test_views_wait_for_their_page_while_the_status_goes_on(app):
    """Served, the views are fed only once every part of the page is in (sandbox/serving/filling.py)."""
    c = app.controller
    c.views_ready = False
    c.runner.run_headless(15)
    c.tick()
    accuracy = c.views[0]
    assert "15" in c.status.object and len(accuracy.source.data["step"]) == 0
    c.views_ready = True
    c.tick()
    assert list(accuracy.source.data["step"])[-1] == 15


def test_clicking_a_neuron_row_selects_it_everywhere(app):
    c = app.controller
    c.runner.run_headless(3)
    heatmap = next(v for v in c.views if getattr(v, "key", None) == "neurons.frequency_energy")
    heatmap.selected_row = 5
    assert c.settings.selected_neuron == 5
    wait_until(lambda: c.runner.mailbox.peek().scalars["neuron.selected"] == 5.0)
    c.tick()  # same step as before, yet the views must show the new selection
    activation = next(v for v in c.views if getattr(v, "key", None) == "neuron.activation_by_k")
    assert activation.figure.title.text.startswith("Neuron 5:")


def test_scrubbing_the_time_slider_shows_a_recorded_step(app):
    c = app.controller
    c.runner.run_headless(40)
    c.tick()
    c.scrub_to(10)
    assert not c.follow_live and c.shown_step == 10
    accuracy = c.views[0]
    assert accuracy.marker.location == 10
    c.go_live()
    c.tick()
    assert c.shown_step == 40 and accuracy.marker.location is None


def test_bad_settings_give_a_message_and_keep_the_run(app):
    c = app.controller
    c.runner.run_headless(5)
    c.settings.p = 12
    c.reset()
    assert "not prime" in c.message and c.alert.visible
    assert c.runner.step == 5


def test_live_weight_decay_reaches_the_running_study(app):
    c = app.controller
    c.settings.weight_decay = 0.25
    wait_until(lambda: hasattr(c.study, "optimizer")
               and c.study.optimizer.param_groups[0]["weight_decay"] == 0.25)


def test_preset_menu_resets_with_the_preset_values(app):
    c = app.controller
    run_id = c.runner.run_id
    c.preset_select.value = "no_weight_decay"
    assert c.settings.weight_decay == 0.0 and "never generalises" in c.preset_note.object
    wait_until(lambda: c.runner.run_id > run_id and c.study.config.p == 97)
    assert c.study.config.weight_decay == 0.0 and c.study.preset == "no_weight_decay"


def test_save_then_load_replays_the_run(app, tmp_path):
    c = app.controller
    c.runner.run_headless(20)
    weights = c.study.model.W_a.detach().clone()
    c.save()
    wait_until(lambda: c.runner.saved_path is not None)
    c.tick()
    assert "Saved" in c.message and c.runner.saved_path.name in c.files.run_select.options
    c.runner.reset()
    wait_until(lambda: c.runner.step == 0)
    c.load(c.runner.saved_path.name)
    wait_until(lambda: c.runner.step == 20 and c.runner.state == RunnerState.PAUSED)
    c.tick()
    assert list(c.views[0].source.data["step"])[-1] == 20
    assert torch.equal(c.study.model.W_a.detach(), weights)  # Start goes on from the saved weights
    c.load("../../etc")
    assert "Could not load" in c.message


def test_closing_the_session_stops_every_thread(app):
    c = app.controller
    c.runner.start()
    wait_until(lambda: c.runner.step > 5 and c.runner._observer is not None and c.runner.landscape.alive)
    training, observer, landscape = c.runner._thread, c.runner._observer, c.runner.landscape
    c.close()
    assert not training.is_alive() and not observer.alive and not landscape.alive
    assert c.runner.state == RunnerState.STOPPED


def landscape_shown(c, step):
    """Show the first surface, run to `step`, and wait until the paused run's refined surface is on
    screen (every snapshot between them carries the first surface)."""
    c.runner.refresh()
    wait_until(lambda: (snap := c.runner.mailbox.peek()) is not None and "landscape.step" in snap.scalars, timeout=60)
    c.runner.step_n(step)
    wait_until(lambda: (snap := c.runner.mailbox.peek()) is not None
               and snap.scalars.get("landscape.step") == step and snap.scalars.get("landscape.resolution") == 41,
               timeout=60)
    c.tick()
    return next(v for v in c.views if type(v).__name__ == "Surface3D"), \
        next(v for v in c.views if type(v).__name__ == "LandscapeMap")


def test_a_paused_run_shows_its_refined_landscape_with_the_whole_path(app):
    c = app.controller
    surface, above = landscape_shown(c, 40)
    steps = list(above.path.data["step"])
    recorded = sorted({row["step"] for row in c.runner.history.since(0)})
    assert steps[0] == 0 and steps[-1] == 40 and steps == recorded   # every recorded step is on the path
    assert surface.mesh.n_points == 41 * 41 and surface.path.n_points == len(steps)
    assert "41 × 41 points (refined)" in surface.status.object
    assert above.current.data["alpha"][0] == above.path.data["alpha"][-1]
    # Hovering a point of the path shows that step's metrics, read from the history.
    rows = {row["step"]: row for row in c.runner.history.since(0)}
    assert list(above.path.data["acc_test"]) == [rows[s]["acc.test"] for s in steps]
    sharpness = next(v for v in c.views if getattr(v, "series", {}).get("landscape.sharpness"))
    assert len(sharpness.source.data["step"]) >= 1 and np.all(np.isfinite(sharpness.source.data["landscape_sharpness"]))
    assert c.message == ""


def test_clicking_a_step_on_a_curve_or_the_path_shows_every_view_at_it(app):
    c = app.controller
    _, above = landscape_shown(c, 40)
    accuracy = c.views[0]
    recorded = list(accuracy.source.data["step"])            # the observer skips steps when busy
    picked = int(recorded[len(recorded) // 2])
    accuracy._on_tap(type("Tap", (), {"x": picked * 1.04, "y": 0.5})())   # near it on the log axis
    assert not c.follow_live and c.shown_step == picked and c.timeline.slider.value == picked
    assert accuracy.marker.location == picked
    assert above.path.data["step"][-1] == picked and above.current.data["alpha"][0] == above.path.data["alpha"][-1]
    # A click on the path's point of step 20 in the map from above.
    i = list(above.path.data["step"]).index(0)
    alpha, beta = above.path.data["alpha"][i], above.path.data["beta"][i]
    above._on_tap(type("Tap", (), {"x": alpha, "y": beta})())
    assert c.shown_step == 0
    above._on_tap(type("Tap", (), {"x": 1e9, "y": 1e9})())           # far from every point: nothing
    assert c.shown_step == 0


def test_landscape_controls_reach_the_tracker(app):
    from sandbox.ui.landscape import LandscapeControls
    c = app.controller
    controls = LandscapeControls(c.runner.landscape)
    controls.directions.value = "random (filter-normalized)"
    controls.refresh.value = "on Recompute only"
    assert c.runner.landscape.directions == "random (filter-normalized)" and c.runner.landscape.refresh_s == 0


def test_status_bar_shows_the_headline_metrics(app):
    c = app.controller
    c.runner.run_headless(3)
    c.tick()
    assert "train acc" in c.status.object and "test acc" in c.status.object


def test_exports_hold_the_metrics_and_the_shown_snapshot(app):
    import csv
    c = app.controller
    c.runner.run_headless(20)
    c.tick()
    rows = list(csv.DictReader(c.files.metrics_csv()))
    assert [int(float(r["step"])) for r in rows][-1] == 20 and "acc.test" in rows[0]
    c.scrub_to(10)
    with np.load(c.files.snapshot_npz(), allow_pickle=False) as data:
        assert data["grid.correct"].shape == (11, 11) and float(data["scalar:neuron.selected"]) == 0.0
    assert c.files.snapshot_download.filename == "grokking_step_10.npz"


def test_a_passing_message_of_the_run_does_not_erase_the_pages_own(app):
    """The page said why it ignored a link; then the run said "Waiting for the server…" while it waited
    for a permit to build, and cleared it: the tick copied the cleared message over the page's notice."""
    c = app.controller
    c.message = "Ignored the link's settings: p=100 is not prime"
    c.runner.message = "Waiting for the server: it builds or analyses at most 2 models at a time"
    c.tick()
    assert c.message.startswith("Waiting for the server")
    c.runner.message = ""
    c.tick()
    assert c.message == "Ignored the link's settings: p=100 is not prime"
    c.runner.message = "Saved 3 metric rows"            # the run's own news still replaces it
    c.tick()
    assert c.message == "Saved 3 metric rows"
