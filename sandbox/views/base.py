"""The View contract: declare the snapshot keys you read; update from a Snapshot."""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import panel as pn
import param
from bokeh.plotting import figure
from panel.viewable import Viewer

from ..runtime.history import History
from ..runtime.snapshot import Snapshot

PALETTE = {"train": "#1f77b4", "test": "#d62728", "accent": "#ff7f0e", "muted": "#7f7f7f",
           "good": "#2ca02c", "purple": "#9467bd"}
SERIES_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def fit_color_range(mapper, values: np.ndarray) -> None:
    """Stretch a colour mapper over the values (at least one unit wide, so a constant still maps)."""
    if len(values):
        mapper.low, mapper.high = float(values.min()), float(max(values.max(), values.min() + 1))


def hover_labels(rows: np.ndarray, n: int) -> list[str]:
    """One hover string per item: its row of values joined by spaces (e.g. a sequence's tokens)."""
    return [" ".join(map(str, row)) for row in np.asarray(rows).reshape(n, -1)]


def new_figure(title: str, **kwargs):
    """A figure with the sandbox's defaults: responsive width, quiet toolbar, readable title."""
    options = dict(title=title, height=260, sizing_mode="stretch_width", toolbar_location="above",
                   tools="pan,wheel_zoom,box_zoom,reset,save", min_border_left=50)
    options.update(kwargs)
    fig = figure(**options)
    fig.title.text_font_size = "13px"
    fig.toolbar.logo = None
    return fig


class DrawnOnFirstUse:
    """Figures made when first used, not when the view is made.

    An app makes all its views in its page's first turn of the server's one event loop, and a
    figure with its glyphs costs 20-50 ms of Bokeh's property machinery: made there, a page's build
    held every other page for over a second. Made in `_draw`, they come with the page's parts, each
    part in a turn of its own (`Page.servable`). What updates read (sources, colour mappers) is made
    in `__init__`, so a run's data flows in before its figures exist; the first read of one of the
    names in `DRAWS` (`view.figure`) draws the view then and there. Any other missing name is an
    AttributeError at once: a typo must not draw the figures first.
    """

    # What `_draw` sets: reading one of them draws the view. A test checks, for every view, that
    # `_draw` sets exactly these.
    DRAWS: ClassVar[tuple[str, ...]] = ("figure",)

    def _draw(self) -> None:
        """Make the figures (and what lives on them): set the names in DRAWS as attributes of the view."""

    @property
    def _is_drawn(self) -> bool:
        return self.__dict__.get("_drawn", False)

    def __getattr__(self, name: str):
        # Only reached for attributes not set yet.
        if name not in type(self).DRAWS or self.__dict__.get("_drawn", False):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.__dict__["_drawn"] = True      # (also keeps `_draw`'s own reads from recursing)
        try:
            self._draw()
        except BaseException:
            self.__dict__["_drawn"] = False     # the next use tries again, and says why again
            raise
        return getattr(self, name)


class View(DrawnOnFirstUse, Viewer):
    """Base view. Subclasses set `keys` (or pass them) and implement `update`.

    `update(snap)` is called from the session's periodic callback with the Snapshot to
    show (the latest one, or a recorded one while the time slider is scrubbed).
    `update_history(history)` is called for views that plot metrics over steps.
    """

    description = param.String(default="", doc="One sentence under the plot: how to read it.")
    picked_step = param.Integer(default=None, allow_None=True,
                                doc="A step the user clicked in this view; the controller shows every view at it.")
    keys: ClassVar[tuple[str, ...]] = ()

    def required_keys(self) -> set[str]:
        return set(self.keys)

    def update(self, snap: Snapshot) -> None:
        raise NotImplementedError

    def update_history(self, history: History) -> None:
        """Views that plot over steps override this; others ignore history."""

    def mark_step(self, step: int | None) -> None:
        """Show which recorded step is on screen (None: following the live run)."""

    def reset(self) -> None:
        """Forget everything from the previous run."""

    def _caption(self, **kwargs) -> pn.pane.Markdown:
        return pn.pane.Markdown(self.description, styles={"font-size": "12px", "color": "#555"}, **kwargs)

    def _pane(self, fig) -> pn.viewable.Viewable:
        pane = pn.pane.Bokeh(fig, sizing_mode="stretch_width")
        if not self.description:
            return pane
        return pn.Column(pane, self._caption(margin=(0, 10)), sizing_mode="stretch_width")
