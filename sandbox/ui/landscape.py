"""The loss-landscape section every app with a trained model shows: the surface in 3-D, the same
surface from above with the trajectory, sharpness against the edge of stability, the loss on the
straight line from the initial weights, and the controls of the landscape's thread."""
from __future__ import annotations

import math

import panel as pn
from panel.viewable import Viewer

from ..runtime.landscape import COARSE, DIRECTIONS, FINE, REFRESH_CHOICES
from ..views import Curves, Scatter
from ..views.landscape_map import LandscapeMap
from ..views.surface3d import Surface3D
from ..serving.filling import InPieces


HOW_TO_READ = """**How to read it.** *Trajectory PCA* spans the plane in which training moved most: the path
lies in it (nearly, when the two directions explain most of its variance), so you see the valley it
followed. *Random* directions show the typical neighbourhood of the weights instead (Li et al.
2018), where a sharp minimum looks narrow and a flat one wide. Each surface is centred on the
weights of its step (α = β = 0). A click on any curve, or on a point of the path in the map,
shows every view at that step."""


def describe_surface(snap) -> str:
    """The line under the 3-D title: which plane, which step, how fine."""
    s = snap.scalars
    first, second = s.get("landscape.explained1", math.nan), s.get("landscape.explained2", math.nan)
    plane = (f"plane of the trajectory's top two principal directions ({first:.0%} and {second:.0%} of its variance)"
             if math.isfinite(first) else "random filter-normalized plane (Li et al. 2018), α, β in units of the weights")
    resolution = int(s.get("landscape.resolution", 0))
    fineness = "refined" if resolution >= FINE else "coarse while training; refined once training stops"
    return f"Step {s.get('landscape.step', 0):.0f} · {resolution} × {resolution} points ({fineness}) · {plane}"


class LandscapeSection:
    """`loss_label`: what the probe's loss is (e.g. "train loss"); `hover_metrics`: history key →
    label shown when hovering a point of the trajectory."""

    def __init__(self, loss_label: str, hover_metrics: dict[str, str] | None = None):
        self.surface = Surface3D(
            "landscape.surface", "landscape.path", f"Loss landscape: {loss_label}", axis_labels=("α", "β", "loss"),
            log_z=True, status=describe_surface, waiting="Computing the first surface…",
            description="Height and colour: log loss at θ + α d₁ + β d₂ around the weights of the step shown. "
                        "Red: the training path projected onto the plane; orange ball: the step shown. "
                        "Drag to turn, scroll to zoom.")
        self.map = LandscapeMap(
            "landscape.surface", "landscape.path", "landscape.path_steps", "The same landscape from above",
            hover_metrics=hover_metrics,
            description="Hover a point of the path for that step's metrics; click it to show every view at that step.")
        self.sharpness = Curves(
            "Sharpness against the edge of stability",
            # Short labels: the legend sits on the plot; the description says what each line is.
            {"landscape.preconditioned_sharpness": "λ_max(P⁻¹H)",
             "landscape.stability_edge": "edge of stability",
             "landscape.sharpness": "λ_max(H), raw"}, log_y=True,
            description="Adam steps by lr·P⁻¹m̂ with P = diag(√v̂ + ε), so the curvature it feels is λ_max(P⁻¹H) "
                        "(blue); it is stable while that stays below the edge (red), (2 + 2β₁) / ((1 − β₁)·lr) = "
                        "38 / lr at β₁ = 0.9 (Cohen et al. 2022). With SGD, P = I and the edge is 2 / lr. The raw "
                        "λ_max(H) (green) is compared with neither line for Adam: it shows how the landscape itself "
                        "sharpens.")
        self.interpolation = Scatter(
            "", "", "Loss on the straight line from the initial weights", points_key="landscape.interpolation",
            line=True, log_y=True, x_label="t (0: initial weights, 1: the step shown)", y_label=loss_label,
            description="A bump on the way means training went around a barrier; a monotone line, that the "
                        "straight path would have worked too.")

    @property
    def views(self) -> list:
        return [self.surface, self.map, self.sharpness, self.interpolation]

    def rows(self, controller) -> list[list]:
        """Two rows. Nothing that changes while training shares the 3-D view's row: every layout
        of its row makes the browser redraw the WebGL scene (seconds per redraw without a GPU)."""
        controls = LandscapeControls(controller.runner.landscape)
        return [[self.surface, InPieces(pn.Column, controls, max_width=560, sizing_mode="stretch_width")],
                [self.map, self.sharpness, self.interpolation]]


class LandscapeControls(Viewer):
    """Directions, refresh interval and Recompute for a run's LandscapeTracker."""

    def __init__(self, tracker, **params):
        super().__init__(**params)
        self.tracker = tracker
        refresh = {seconds: label for label, seconds in REFRESH_CHOICES.items()}
        self.directions = pn.widgets.Select(label="Directions", options=list(DIRECTIONS), value=tracker.directions,
                                            width=220, css_classes=["sandbox-landscape-directions"])
        self.refresh = pn.widgets.Select(label="Refresh while training", options=list(REFRESH_CHOICES),
                                         value=refresh.get(tracker.refresh_s, "every 2 s"), width=160)
        self.recompute = pn.widgets.Button(label="Recompute", width=100, align="end",
                                           css_classes=["sandbox-landscape-recompute"])
        self.directions.param.watch(lambda e: tracker.configure(directions=e.new), "value")
        self.refresh.param.watch(lambda e: tracker.configure(refresh_s=REFRESH_CHOICES[e.new]), "value")
        self.recompute.on_click(lambda e: tracker.recompute())

    def __panel__(self):
        note = pn.pane.Markdown(f"{COARSE} × {COARSE} points while training, {FINE} × {FINE} once training stops; "
                                "computed on a thread of its own.", margin=(0, 10),
                                styles={"font-size": "12px", "color": "#555"})
        return pn.Column(pn.pane.Markdown("**Landscape**", margin=(0, 10)), self.directions,
                         pn.Row(self.refresh, self.recompute), note,
                         pn.pane.Markdown(HOW_TO_READ, margin=(10, 10), styles={"font-size": "13px"}),
                         sizing_mode="stretch_width")
