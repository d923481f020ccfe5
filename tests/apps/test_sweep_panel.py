"""The sweep panel in the apps, without a browser: a grid from the sidebar's settings runs on a
LocalCluster and fills the heatmap; bad axes and a second sweep are refused with a message.
Run: pytest tests/apps/test_sweep_panel.py"""
import numpy as np

from sandbox.ui.sweep import SweepPanel
from tests.apps.conftest import opened_app
from tests.conftest import wait_until


def sweep_panel(app) -> SweepPanel:
    return next(item for row in app.rows for item in row if isinstance(item, SweepPanel))


def test_a_hopfield_sweep_fills_the_phase_diagram_and_is_saved(tmp_path):
    with opened_app("hopfield", tmp_path) as app:
        panel = sweep_panel(app)
        panel.x_axis.value, panel.y_axis.value = "load=0.05,0.6", "noise=0,0.3"
        panel.run()
        assert panel.cancel_button.disabled is False and panel.run_button.disabled is True
        assert list(panel.figure.x_range.factors) == ["0.05", "0.6"] and panel.figure.yaxis.axis_label == "noise"
        assert panel.sweep.wait(120) and panel.sweep.state == "done", panel.sweep.message
        panel.tick()
        data = panel.source.data
        assert len(data["value"]) == 4 and all(data["text"])              # every cell measured and labelled
        cells = dict(zip(zip(data["x"], data["y"]), data["value"]))
        assert cells[("0.05", "0")] == 1.0 and cells[("0.6", "0.3")] < 0.5   # light load retrieves; overload fails
        # The sweep ran from the app's own settings (its tiny network), and is in the run store.
        assert panel.sweep.spec.fixed["n_units"] == 36
        assert (tmp_path / "sweeps" / panel.sweep.name / "sweep.json").is_file()
        assert "done" in panel.status.object and panel.run_button.disabled is False


def test_bad_axes_are_refused_and_one_sweep_runs_at_a_time(tmp_path):
    with opened_app("hopfield", tmp_path) as app, opened_app("hopfield", tmp_path) as other:
        panel, second = sweep_panel(app), sweep_panel(other)
        panel.x_axis.value = "load=0.1,7"
        panel.run()
        assert panel.sweep is None and "Not started" in panel.status.object and "load must lie in" in panel.status.object
        panel.x_axis.value, panel.y_axis.value = "load=0.05:0.3:4", "noise=0:0.4:5"
        panel.run()
        second.run()
        assert second.sweep is None and "Another sweep is running" in second.status.object
        panel.cancel()
        assert panel.sweep.wait(60) and panel.sweep.state == "cancelled"
        panel.tick()
        assert panel.run_button.disabled is False
        second.x_axis.value, second.y_axis.value = "load=0.05", ""
        second.run()                                             # the server's sweep slot is free again
        assert second.sweep is not None and second.sweep.wait(60) and second.sweep.state == "done"
        second.tick()
        assert np.isfinite(second.source.data["value"]).all() and second.figure.y_range.factors == ["–"]
