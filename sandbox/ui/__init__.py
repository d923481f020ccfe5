"""The one shared controller and the app shell every study uses."""
import gc

import panel as pn
import panel.io.location  # noqa: F401
import panel.models.vtk  # noqa: F401
import panel.io.browser  # noqa: F401
import panel.pane.vtk.synchronizable_serializer  # noqa: F401
import pyvista.plotting  # noqa: F401
import nh3  # noqa: F401
import torch._dynamo  # noqa: F401

from .controller import StudyController
from .app import StudyApp
from .compare import CompareApp
from ..serving.filling import InPieces
from . import landscape, seeds, sweep  # noqa: F401

# What is loaded by now (torch, Bokeh, Panel, HoloViews, PyVista: ~600,000 objects) lives as long as
# the server does. Frozen, it is left out of the collector's full passes, which otherwise walk all of
# it (0.13-0.3 s on an idle core, up to 1.4 s measured under load) while holding every thread, the
# event loop that answers the pages among them. So what a session would load later is loaded here:
# torch.optim imports torch._dynamo (and sympy) on an optimizer's first use, the 3-D views PyVista's
# plotting (and matplotlib), Panel's VTK pane its models, a template its HTML sanitizer (nh3) and a
# Markdown pane its parser on first render. (tests/test_frozen_heap.py checks that nothing big is left.)
pn.pane.Markdown("*warm*").get_root()
gc.collect()
gc.freeze()

__all__ = ["StudyController", "StudyApp", "CompareApp", "InPieces"]
