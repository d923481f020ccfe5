"""The one shared controller and the app shell every study uses."""
import gc

from .controller import StudyController
from .app import StudyApp
from .compare import CompareApp

# What is loaded by now (torch, Bokeh, Panel, HoloViews: ~330,000 objects) lives as long as the
# server does. Frozen, it is left out of the collector's full passes, which otherwise walk all of it
# (0.13 s on an idle core, up to 1.4 s measured under load) while holding every thread, the event loop
# that answers the pages among them.
gc.freeze()

__all__ = ["StudyController", "StudyApp", "CompareApp"]
