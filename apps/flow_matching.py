"""Flow matching in 2-D: how the source distribution shapes what a velocity field learns."""
import panel as pn

from sandbox.studies.flow import FlowStudy
from sandbox.ui import InPieces, StudyApp, StudyController
from sandbox.serving.extension import load_extensions
from sandbox.ui.landscape import LandscapeSection
from sandbox.views import Bars, Curves, LinkedPlanes, Scatter
from sandbox.views.flow_at_time import FlowAtTime

load_extensions("vtk")

INTRO = """**Flow matching.** A small network learns a velocity field v(x, t) that carries samples
of a *source* (t = 0) onto the *target* data (t = 1), trained on straight lines between source and
target samples. Press **Start** and press ▶ under the first plot to watch the particles flow.
**Click** the first plot to place blobs of your own source (then source `drawn`, Reset).
Which source works best? Try the presets: each says what to look for. **Box-select** source
particles on the left of the linked pair to see where they land and the paths they take."""

ANGLE = ("particles.angle", "Turbo256", (-3.1416, 3.1416))


def build_app(preset: str | None = None, runs_root: str = "runs", **study_params) -> StudyApp:
    flow = FlowAtTime("Particles and velocity field at time t", "particles.paths", "field.points",
                      "field.velocity", "field.times", background_key="target.points", color_key="particles.angle",
                      description="Particles are coloured by their starting direction; grey: held-out target "
                                  "samples; arrows: the learned velocity at t (nearest of 11 recorded times).")
    linked = LinkedPlanes(
        "particles.paths", ["Source particles (t = 0): select a region", "Where they land (t = 1), with their paths"],
        [ANGLE, ANGLE], frames=[0, -1], paths_in=1, background_key="target.points", background_in=1,
        axis_labels=("x₁", "x₂"), height=360,
        description="Same particles, same colours. Paths that cross each other mark an entangled flow.")
    loss = Curves("Flow-matching loss (fixed pairs, data units²)", {"loss.train": "loss"}, log_y=True,
                  description="Does not go to 0: with independent pairs the target velocity is itself random.")
    quality = Curves("Sample quality (lower is better)", {"quality.energy": "energy distance",
                                                          "quality.w2": "W2 (exact, 512 points)",
                                                          "quality.stranded": "stranded share"}, log_y=True,
                     description="Distances in units of the data's scale. Stranded: generated points far from "
                                 "every target sample (between modes, off the data).")
    paths = Curves("Paths", {"paths.straightness": "straightness", "paths.crossings": "crossing pairs"},
                   y_range=(0, 1.02), description="Straightness 1: straight lines (one Euler step would do). "
                                                  "Crossings: share of pairs of paths that cross.")
    modes = Curves("Coverage and modes", {"quality.coverage_eps": "coverage (ε)", "modes.coverage": "mode coverage",
                                          "modes.divergence": "KL of mode shares"},
                   description="Coverage (ε), the paper's: share of held-out points paired one-to-one with a "
                               "generated point closer than ε (0.5 in its setting). Mode coverage: share of modes "
                               "that get at least 20% of their mass; targets without modes have no mode curves.")
    shares = Bars("modes.shares", "Generated samples per mode", x_label="mode", y_label="share", first_x=0,
                  reference_key="modes.weights", missing="this target has no modes",
                  description="Bars: share of generated samples nearest each mode; black ticks: the data's "
                              "mass in that mode. A bar far below its tick is a missed mode.")
    by_nfe = Scatter("quality.nfe", "quality.energy_by_nfe", "Quality vs number of function evaluations",
                     x_label="NFE (solver steps × evaluations)", y_label="energy distance", line=True, log_x=True,
                     log_y=True, reference_key="converged.quality.energy_by_nfe",
                     description="The same model sampled with more or fewer steps of the chosen solver. Dashed: "
                                 "what an adaptive solver gives (dopri5; setting 'Converged reference').")
    stranded_by_nfe = Scatter("quality.nfe", "quality.stranded_by_nfe", "Stranded share vs NFE", x_label="NFE",
                              y_label="stranded share", line=True, log_x=True, log_y=True,
                              reference_key="converged.quality.stranded_by_nfe",
                              description="The same model, the same particles: how many end stranded depends "
                                          "on the solver too. Where the curve is far from the dashed converged "
                                          "value, the strands are discretisation error, not the learned field.")
    landscape = LandscapeSection("flow-matching loss", hover_metrics={"loss.train": "loss",
                                                                       "quality.energy": "energy distance"})
    views = [flow, linked, loss, quality, paths, modes, shares, by_nfe, stranded_by_nfe, *landscape.views]
    controller = StudyController(FlowStudy, views, preset=preset, runs_root=runs_root, study_params=study_params,
                                 snapshot_every=100, landscape=True)
    # Clicks on the plane place blobs of the "drawn" source; they apply on Reset like any setting.
    def add_blob(event):
        controller.settings.blobs = [*controller.settings.blobs, event.new]
        controller.message = (f"{len(controller.settings.blobs)} source blob(s) placed. Choose source 'drawn' "
                              "in Settings and press Reset to train from them.")
    flow.param.watch(add_blob, "clicked")
    controller.settings.param.watch(lambda e: flow.show_blobs(e.new), "blobs")
    flow.show_blobs(controller.settings.blobs)
    rows = [[flow, InPieces(pn.Column, quality, paths, sizing_mode="stretch_width")], [linked], [modes, shares], [loss, by_nfe, stranded_by_nfe], *landscape.rows(controller)]
    return StudyApp(controller, rows, title="Flow matching in 2-D", intro=INTRO)


if __name__.startswith("bokeh_app"):   # served; pn.state.served reads the whole call stack, 40 ms a page
    build_app().servable()
