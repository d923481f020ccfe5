"""An app's page loads Panel's VTK extension without Panel's look at the call stack
(sandbox/serving/extension.py): that look cost 20-50 ms of every page's first turn."""
import inspect

import panel as pn
from bokeh.document import Document

from sandbox.serving.extension import load_extensions


def test_vtk_is_loaded_for_the_page_without_reading_the_call_stack(monkeypatch):
    pn.extension("vtk")            # loaded once before, as by the server's first page

    def no_stack_reading(*args, **kwargs):
        raise AssertionError("Panel read the call stack")

    monkeypatch.setattr(inspect, "getouterframes", no_stack_reading)
    doc = Document()
    with pn.io.server.set_curdoc(doc):
        load_extensions("vtk")
        assert "vtk" in pn.state._extensions      # the page's resources will include vtk.js
    assert pn.config.notifications is False
