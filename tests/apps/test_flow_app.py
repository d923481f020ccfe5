"""The flow-matching app without a server. Run: pytest tests/apps/test_flow_app.py"""
import numpy as np

from tests.apps.conftest import app_fixture
from tests.conftest import wait_until


app = app_fixture("flow_matching")


def view(app, name):
    return next(v for v in app.controller.views if type(v).__name__ == name)


def trained(app, name: str, steps: int = 20):
    """Train a little, show it, and return the view called `name` and the paths it was given."""
    app.controller.runner.run_headless(steps)
    app.controller.tick()
    return view(app, name), app.controller.runner.mailbox.peek().arrays["particles.paths"]


def test_the_time_player_moves_particles_from_source_to_generated_without_a_new_snapshot(app):
    flow, paths = trained(app, "FlowAtTime")
    assert flow.player.value == flow.player.end                     # opens on the generated samples
    np.testing.assert_allclose(flow.particles.data["x"], paths[-1, :, 0], rtol=1e-6)
    flow.player.value = 0
    np.testing.assert_allclose(flow.particles.data["x"], paths[0, :, 0], rtol=1e-6)
    flow.player.value = flow.player.end // 2                        # t = 0.5: half-way along the frames
    middle = paths[len(paths) // 2] if len(paths) % 2 else 0.5 * (paths[len(paths) // 2 - 1] + paths[len(paths) // 2])
    np.testing.assert_allclose(flow.particles.data["x"], middle[:, 0], rtol=1e-5, atol=1e-6)
    assert len(flow.arrows.data["x0"]) == 21 * 21 and "t = <b>0.50" in flow.t_label.object


def test_linked_pair_shows_start_and_end_with_paths_from_one_source(app):
    linked, paths = trained(app, "LinkedPlanes")
    np.testing.assert_allclose(linked.source.data["x0"], paths[0, :, 0])
    np.testing.assert_allclose(linked.source.data["x1"], paths[-1, :, 0])
    assert len(linked.source.data["xs"]) == paths.shape[1] and len(linked.source.data["xs"][0]) == len(paths)
    assert len(linked.background.data["x"]) > 0                     # the target behind the landing points
    assert {id(r.data_source) for f in linked.figures for r in f.renderers} >= {id(linked.source)}


def test_sampling_controls_are_widgets_and_resample_a_paused_run(app):
    c = app.controller
    c.runner.run_headless(20)
    c.tick()
    widgets = c.live_widgets._widgets
    assert {"nfe", "method", "pruned"} <= set(widgets)
    assert type(widgets["method"]).__name__ == "Select" and type(widgets["nfe"]).__name__ == "IntInput"
    c.settings.nfe = 8                                            # what the NFE input does
    wait_until(lambda: c.runner.mailbox.peek().arrays["particles.paths"].shape[0] == 9)
    c.tick()
    assert len(view(app, "LinkedPlanes").source.data["xs"][0]) == 9


def test_clicks_place_blobs_that_a_reset_with_the_drawn_source_trains_from(app):
    c = app.controller
    c.runner.run_headless(5)
    c.tick()
    flow = view(app, "FlowAtTime")
    flow.clicked = [2.0, -1.0, 0.2]                                  # what a click on the plane reports
    flow.clicked = [-3.0, 0.5, 0.2]
    assert c.settings.blobs == [[2.0, -1.0, 0.2], [-3.0, 0.5, 0.2]] and "2 source blob(s)" in c.message
    assert list(flow.blobs.data["x"]) == [2.0, -3.0]
    c.settings.source = "drawn"
    c.reset()
    wait_until(lambda: c.study.config.source == "drawn" and c.runner.mailbox.peek() is not None
               and c.runner.mailbox.peek().run_id == c.runner.run_id)
    start = c.runner.mailbox.peek().arrays["particles.paths"][0]
    near = np.minimum(np.linalg.norm(start - [2.0, -1.0], axis=1), np.linalg.norm(start - [-3.0, 0.5], axis=1))
    assert np.quantile(near, 0.95) < 1.0                            # the particles start in the blobs


def test_mode_share_bars_stand_next_to_the_datas_masses_and_say_when_there_are_no_modes(app):
    shares, _ = trained(app, "Bars")
    assert list(shares.source.data["x"]) == list(range(8))                          # 8 gaussians
    np.testing.assert_allclose(shares.source.data["ref"], np.full(8, 1 / 8), rtol=1e-6)
    assert abs(sum(shares.source.data["top"]) - 1) < 1e-5
    c = app.controller
    c.settings.target = "two moons"
    c.reset()
    wait_until(lambda: c.runner.mailbox.peek() is not None and c.runner.mailbox.peek().run_id == c.runner.run_id)
    c.tick()
    assert len(shares.source.data["x"]) == 0 and "no modes" in shares.figure.title.text
