"""Grokking on modular addition: memorise first, generalise much later."""
import numpy as np
import panel as pn
from bokeh.palettes import RdBu11

from sandbox.studies.grokking import GrokkingStudy
from sandbox.ui import StudyApp, StudyController
from sandbox.serving.extension import load_extensions
from sandbox.ui.landscape import LandscapeSection
from sandbox.ui.seeds import SeedSpreadPanel
from sandbox.ui.sweep import SweepPanel
from sandbox.views import Bars, Curves, Image, Scatter

load_extensions("vtk")

INTRO = """**Grokking.** A small network sees 30% of the table *a + b mod p*. Train accuracy hits 100%
within ~100 steps (memorisation); test accuracy stays at chance, then rises hundreds of steps
later as weight decay pulls the weights towards a *Fourier* solution: each neuron settles on
one frequency k. Press **Start**; click a row of the neuron map to inspect that neuron."""


def build_app(preset: str | None = None, runs_root: str = "runs", **study_params) -> StudyApp:
    accuracy = Curves("Accuracy (log step)", {"acc.train": "train", "acc.test": "test"}, y_range=(-0.02, 1.02),
                      description="Train (blue) saturates first; the gap before test (red) follows is grokking.")
    loss = Curves("Loss (log–log)", {"loss.train": "train", "loss.test": "test", "loss.restricted": "restricted",
                                      "loss.excluded": "excluded"}, log_y=True,
                  description="Restricted: only key frequencies kept. Excluded: key frequencies removed (train).")
    norm = Curves("Total weight norm", {"weights.norm": "‖θ‖"},
                  description="Grows while memorising, then weight decay shrinks it as the circuit takes over.")
    sparsity = Curves("Fourier sparsity", {"neurons.concentration": "neuron top-10% share",
                                          "neurons.mean_dominant_share": "dominant share", "fourier.gini": "Gini (embedding)"},
                      y_range=(0, 1.02), description="Per neuron: how much energy sits in its strongest frequencies.")
    spectrum = Bars("fourier.energy", "Embedding energy per frequency", y_label="‖F_k‖²",
                    highlight_key="fourier.key_frequencies",
                    description="Energy of the embedding at each frequency k (W_a and W_b for the MLP, W_E for the "
                                "transformer); orange: the key frequencies, those the neurons use (for the MLP, "
                                "after grokking, usually all of them).")
    per_frequency = Bars("neurons.per_frequency", "Neurons per dominant frequency", y_label="neurons",
                         description="How neurons divide the frequencies among themselves.")
    neurons = Image("neurons.frequency_energy", "Neuron × frequency (rows sorted by dominant k)",
                    x_label="frequency k", y_label="neuron (sorted)", order_key="neurons.order", x_start=0.5,
                    palette="Magma256", low=0, high=1, height=340,
                    description="Each row one neuron's share of energy per frequency. Click a row to select it.")
    phases = Scatter("neurons.phase_sum", "neurons.phase_out", "Phase relation per neuron",
                     x_label="φ(a + b): the neuron's input phase, wrapped", y_label="ψ (output phase)",
                     color_key="neurons.dominant", size_key="neurons.share",
                     x_range=(-3.3, 3.3), y_range=(-3.3, 3.3), guides=[([-np.pi, np.pi], [-np.pi, np.pi])],
                     description="Colour: dominant k; size: its share. A diagonal means ψ ≈ φ(a + b): the neuron "
                                 "computes cos(w(a + b − c)). MLP: φ_a + φ_b of its weights; transformer: the phase "
                                 "of its activation's wave in a + b.")
    grid = Image("grid.correct", "Predictions on the p × p table", x_label="b", y_label="a",
                 palette=["#f4c7c3", "#b7e1cd", "#d62728", "#1f77b4"], low=0, high=3, height=340,
                 categories={0: "test wrong", 1: "test right", 2: "train wrong", 3: "train right"},
                 description="Test pairs turn green as the model generalises.")
    activation = Image("neuron.activation_by_k", "Selected neuron over (a, b)", x_label="b·k mod p",
                       y_label="a·k mod p",
                       title_template="Neuron {neuron_selected:.0f}: k = {neuron_frequency:.0f}, "
                                      "{neuron_share:.0%} of its energy",
                       palette=list(reversed(RdBu11)), height=340,
                       description="Its activation over all (a, b), axes ordered by a·k and b·k mod p: a neuron "
                                   "tuned to frequency k then shows one smooth period along each axis (in natural "
                                   "order, a fine plaid for large k).")
    neuron_spectrum = Bars("neuron.spectrum", "Selected neuron's spectrum", y_label="energy")
    landscape = LandscapeSection("train loss", hover_metrics={"loss.train": "train loss", "loss.test": "test loss",
                                                              "acc.test": "test accuracy"})
    views = [accuracy, loss, norm, sparsity, spectrum, per_frequency, neurons, phases, grid, activation,
             neuron_spectrum, *landscape.views]
    controller = StudyController(GrokkingStudy, views, preset=preset, runs_root=runs_root, study_params=study_params,
                                 landscape=True)
    neurons.param.watch(lambda e: controller.select("selected_neuron", e.new), "selected_row")
    sweep = SweepPanel("grokking", x="weight_decay=0,0.5,1", y="train_fraction=0.2,0.3,0.5",
                       settings=controller.current_settings, runs_root=runs_root, steps=2000)
    rows = [[accuracy, loss], [norm, sparsity], [spectrum, per_frequency], [neurons, phases],
            [grid, activation, neuron_spectrum], *landscape.rows(controller), [SeedSpreadPanel(controller.current_settings)],
            [sweep]]
    return StudyApp(controller, rows, title="Grokking on modular addition", intro=INTRO)


if __name__.startswith("bokeh_app"):   # served; pn.state.served reads the whole call stack, 40 ms a page
    build_app().servable()
