"""The sweep panel in the apps, without a browser: a grid from the sidebar's settings runs on a
LocalCluster and fills the heatmap; bad axes and a second sweep are refused with a message; the
cluster is the server's choice, never the page's.
Run: pytest tests/apps/test_sweep_panel.py"""
import socket
import time

import numpy as np
import panel as pn
import param
import pytest

from sandbox.runtime.sweep import SCHEDULER_ENV
from sandbox.ui import sweep as sweep_ui
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


def _everything_a_page_can_set(panel: SweepPanel) -> list[tuple[object, str]]:
    """(widget, parameter) for every text a browser can write: a page changes only its models'
    properties, and a forged message can set any of them, not only the one its widget edits."""
    return [(obj, name) for obj in panel.__panel__().select(pn.widgets.Widget)
            for name, parameter in obj.param.objects().items()
            if isinstance(parameter, param.String) and not parameter.constant and not parameter.readonly]


def test_no_text_a_page_sets_makes_the_server_connect_to_it(tmp_path, monkeypatch):
    """A page once chose the scheduler: the server connected there and unpickled what came back."""
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    with socket.socket() as listener, opened_app("hopfield", tmp_path) as app:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)                  # a connection completes in the backlog without accept()
        address = "tcp://127.0.0.1:%d" % listener.getsockname()[1]
        panel = sweep_panel(app)
        grid = {(panel.x_axis, "value"), (panel.x_axis, "value_input"), (panel.y_axis, "value"),
                (panel.y_axis, "value_input")}
        forged = [(obj, name) for obj, name in _everything_a_page_can_set(panel) if (obj, name) not in grid]
        assert len(forged) > 4, "the page's text fields were not found"
        for obj, name in forged:
            setattr(obj, name, address)
        panel.x_axis.value, panel.y_axis.value = "load=0.05", ""        # a grid that starts a sweep
        panel.run_button.clicks += 1                                     # Run, as the browser presses it
        assert panel.sweep is not None, panel.status.object
        assert _first_connection(listener, until=lambda: panel.sweep.wait(0)) is None, \
            "the server connected to an address the page set"
        assert panel.sweep.state == "done", panel.sweep.message        # it ran on this machine instead


def _first_connection(listener: socket.socket, until, timeout: float = 120.0):
    """The peer of the first connection to `listener` before `until()` holds (and 0.1 s after); None if none."""
    listener.settimeout(0.1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished = until()
        try:
            connection, peer = listener.accept()
        except socket.timeout:
            if finished:
                return None
            continue
        connection.close()
        return peer
    raise AssertionError(f"the sweep neither finished nor connected within {timeout} s")


@pytest.mark.parametrize("scheduler, shown", [(None, "this machine"), ("tcp://10.0.0.5:8786", "the server's Dask cluster")])
def test_the_cluster_is_the_one_the_server_was_started_with(tmp_path, monkeypatch, scheduler, shown):
    if scheduler is None:
        monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    else:
        monkeypatch.setenv(SCHEDULER_ENV, scheduler)
    started = []

    class Recorded(sweep_ui.Sweep):
        def start(self):        # records where it would run, and ends at once (the slot freed)
            started.append(self.scheduler)
            self.state = "done"
            self.on_finish()
            return self

    monkeypatch.setattr(sweep_ui, "Sweep", Recorded)
    with opened_app("hopfield", tmp_path) as app:
        panel = sweep_panel(app)
        assert shown in panel.where.object and "10.0.0.5" not in panel.where.object   # no address on the page
        panel.x_axis.value, panel.y_axis.value = "load=0.05", ""
        panel.run()
        assert started == [scheduler]
