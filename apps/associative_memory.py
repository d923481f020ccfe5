"""Associative memories trained by gradient descent: the error falls as a power law in the
memory size (Cabannes, Dohmatob & Bietti 2024)."""
import panel as pn

from sandbox.studies.associative_memory import DIMS, AssociativeMemoryStudy
from sandbox.ui import StudyApp, StudyController
from sandbox.serving.extension import load_extensions
from sandbox.ui.landscape import LandscapeSection
from sandbox.views import Curves, Image, Scatter

load_extensions("vtk")

INTRO = """**Scaling laws for associative memories.** Each token x (drawn with Zipf probability
p(x) ∝ x^(−α)) must be mapped to its class by a learned d × d matrix W between fixed random
embeddings: ŷ = argmax_y u_yᵀ W e_x. Five memories, d = 4 … 64, train side by side on the same
batches. Press **Start**: frequent tokens are learned first, and the larger memories keep more
of the rare ones."""


def build_app(preset: str | None = None, runs_root: str = "runs", **study_params) -> StudyApp:
    errors = Curves("Error by memory size", {f"error.d{d}": f"d = {d}" for d in DIMS}, log_y=True,
                    description="Error = the chance that a fresh Zipf sample is answered wrongly.")
    scaling = Scatter("memory.dims", "memory.error", "Error vs memory size, now", x_label="memory size d",
                      y_label="error", line=True, log_x=True, log_y=True,
                      description="A straight line on these log-log axes is a power law; its slope is the "
                                  "'exponent' in the status bar.")
    recalled = Image("memory.recalled", "Which tokens each memory recalls (most frequent first)",
                     x_label="token, by frequency rank", y_label="memory: d = 4 (bottom) … 64 (top)",
                     palette=["#d62728", "#2ca02c"], low=0, high=1, categories={0: "wrong", 1: "recalled"},
                     height=240, description="Green: the memory answers that token right. The frequent tokens "
                                             "(left) come first; only the big memories reach far into the tail.")
    loss = Curves("Loss and exponent", {"loss.d64": "loss (d = 64)", "scaling.exponent": "power-law exponent"},
                  description="The exponent is the slope of log error against log d.")
    landscape = LandscapeSection("expected loss (all five memories)",
                                 hover_metrics={"error.d64": "error (d = 64)", "scaling.exponent": "exponent"})
    views = [errors, scaling, recalled, loss, *landscape.views]
    controller = StudyController(AssociativeMemoryStudy, views, preset=preset, runs_root=runs_root,
                                 study_params=study_params, snapshot_every=50, landscape=True)
    rows = [[errors, scaling], [recalled], [loss], *landscape.rows(controller)]
    return StudyApp(controller, rows, title="Associative memories: scaling laws", intro=INTRO)


if __name__.startswith("bokeh_app"):   # served; pn.state.served reads the whole call stack, 40 ms a page
    build_app().servable()
