"""Two flow-matching runs side by side: same target, two sources (or couplings), trained at once."""
from sandbox.studies.flow import FlowStudy
from sandbox.ui import CompareApp, StudyController
from sandbox.serving.extension import load_extensions
from sandbox.views import Bars, Curves
from sandbox.views.flow_at_time import FlowAtTime

load_extensions()

INTRO = """**Two sources, one target.** Both runs train at the same time on the same data; by default
the paper's high-dimensional picture with the source's norms misaligned (A) and aligned (B).
Press **Start both**, then ▶ in each plot. Change either run in its card (preset, or Settings and
its Reset) to compare anything else: couplings, solvers, NFE, pruning."""


def run_column(controller: StudyController, size: int = 400) -> list:
    flow = FlowAtTime("Particles and velocity field at time t", "particles.paths", "field.points",
                      "field.velocity", "field.times", background_key="target.points", color_key="particles.angle",
                      size=size)
    quality = Curves("Sample quality (lower is better)", {"quality.energy": "energy distance",
                                                          "quality.w2": "W2", "quality.stranded": "stranded"},
                     log_y=True, description="In units of the data's scale.")
    paths = Curves("Paths", {"paths.straightness": "straightness", "paths.crossings": "crossing pairs"},
                   y_range=(0, 1.02))
    shares = Bars("modes.shares", "Generated samples per mode", x_label="mode", y_label="share", first_x=0,
                  reference_key="modes.weights", missing="this target has no modes", height=200,
                  description="Black ticks: the data's mass per mode.")
    controller.add_views(flow, quality, paths, shares)
    return [flow, quality, paths, shares]


def build_app(preset_a: str = "three directions: high-dim gaussian", preset_b: str = "three directions: norm-aligned",
              runs_root: str = "runs", **study_params) -> CompareApp:
    controllers = {label: StudyController(FlowStudy, [], preset=preset, runs_root=runs_root, study_params=study_params,
                                          snapshot_every=100, link_url=False)
                   for label, preset in (("A", preset_a), ("B", preset_b))}
    columns = {label: run_column(c) for label, c in controllers.items()}
    return CompareApp(controllers, columns, title="Flow matching: two sources side by side", intro=INTRO)


if __name__.startswith("bokeh_app"):   # served; pn.state.served reads the whole call stack, 40 ms a page
    build_app().servable()
