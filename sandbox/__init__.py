"""A visual sandbox for training dynamics.

The library is split by one boundary: studies train models (pure torch/numpy), the
runtime runs them in a background thread and hands out `Snapshot`s (plain numpy), and
views/ui turn snapshots into Panel/Bokeh objects. Nothing below `views`/`ui` imports Panel.
"""

__version__ = "0.1.0"
