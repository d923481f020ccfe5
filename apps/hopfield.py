"""Hopfield networks: watch a corrupted query fall into a stored memory, and measure how many
memories a network holds (capacity) and from how far it finds them (basins)."""
import panel as pn

from sandbox.analysis.hopfield import CLASSICAL_CAPACITY
from sandbox.studies.hopfield import CAPACITY_NOISE, HopfieldStudy
from sandbox.ui import InPieces, StudyApp, StudyController
from sandbox.serving.extension import load_extensions
from sandbox.ui.sweep import SweepPanel
from sandbox.views import Bars, Curves, PatternGrid, Scatter
from sandbox.views.surface3d import Surface3D

load_extensions("vtk")

INTRO = """**Associative memory.** A Hopfield network stores patterns as minima of an energy; a
corrupted *query* rolls downhill to the nearest one. Press **Start** to watch the retrieval step by
step (async: an eighth of the units per step). **Click** a stored pattern to query it, **click cells
of the query** to draw on it, or move the noise / occlusion / β controls: the retrieval starts over.
Meanwhile the capacity and basin curves are measured in the background."""


def build_app(preset: str | None = None, runs_root: str = "runs", **study_params) -> StudyApp:
    stored = PatternGrid("patterns.stored", "Stored patterns (the first 24): click one to query it", per_row=12,
                         highlight_key="patterns.target", height=200,
                         description="Black +1, white −1. The orange frame marks the pattern the query was made from.")
    retrieval = PatternGrid("retrieval.images", "Retrieval: click the query's cells to flip them", per_row=3,
                            labels=["query", "state now", "its pattern"], height=240,
                            description="Grey: a continuous state between −1 and +1 (modern nets).")
    overlaps = Bars("retrieval.overlaps", "Overlap with each stored pattern, now", x_label="stored pattern",
                    y_label="overlap m", first_x=0, highlight_key="patterns.target", y_range=(-1.05, 1.05),
                    description="m = ξ·s / N: 1 when the state is that pattern, −1 its negative; orange: the "
                                "query's pattern.")
    overlap_curve = Curves("Overlap over the iterations", {"overlap.target": "with its pattern",
                                                           "overlap.best_other": "best other |m|"},
                           y_range=(-0.05, 1.05), log_x=False,
                           description="Retrieved when the blue line reaches 1; a spurious or mixture "
                                       "state keeps several overlaps in between.")
    energy = Curves("Energy over the iterations", {"energy": "energy"}, log_x=False,
                    description="Asynchronous updates never raise it (each unit takes the sign that lowers it).")
    capacity = Scatter("capacity.alpha", "capacity.success",
                       f"Capacity: retrieved from {CAPACITY_NOISE:.0%} noise vs load α = P/N",
                       x_label="load α = P / N", y_label="success rate", line=True, x_range=(0, 0.31),
                       y_range=(-0.03, 1.03), guides=[([CLASSICAL_CAPACITY] * 2, [0, 1])],
                       description="Random patterns, measured a point at a time. Dashed: α = 0.138, the "
                                   "classical net's capacity for N → ∞.")
    basin = Scatter("basin.noise", "basin.success", "Basin of attraction: success vs query noise",
                    x_label="share of units flipped", y_label="success rate", line=True, x_range=(-0.01, 0.51),
                    y_range=(-0.03, 1.03), description="The stored patterns above, each queried with that "
                                                       "much noise: how far away retrieval still works.")
    landscape = Surface3D("landscape.surface", "landscape.path",
                          "Energy over the plane of the query's pattern (a) and its closest rival (b)",
                          axis_labels=("→ a", "→ b", "energy"),
                          description="Surface: energies of ±1 states mixed from pattern a (at (1, 0)) and b (at "
                                      "(0, 1)); their negatives sit opposite. For unrelated patterns the axes are "
                                      "the overlaps m_a, m_b. Red: the retrieval's own states, orange ball: now "
                                      "(they float above the surface while other patterns' noise remains). Drag "
                                      "to turn, scroll to zoom.")
    views = [stored, retrieval, overlaps, landscape, overlap_curve, energy, capacity, basin]
    controller = StudyController(HopfieldStudy, views, preset=preset, runs_root=runs_root,
                                 study_params=study_params, snapshot_every=1)

    def query_pattern(event):
        controller.settings.param.update(drawn=[], target=event.new)

    def flip_cell(event):
        tile, unit = event.new
        if tile == 0:                                   # the query
            controller.settings.drawn = sorted(set(controller.settings.drawn) ^ {unit})

    stored.param.watch(query_pattern, "clicked_tile")
    retrieval.param.watch(flip_cell, "clicked_cell")
    sweep = SweepPanel("hopfield", x="load=0.02:0.3:8", y="noise=0:0.4:5", settings=controller.current_settings,
                       runs_root=runs_root)
    rows = [[stored], [retrieval, overlaps], [landscape, InPieces(pn.Column, overlap_curve, energy, sizing_mode="stretch_width")],
            [capacity, basin], [sweep]]
    return StudyApp(controller, rows, title="Hopfield networks and associative memory", intro=INTRO)


if __name__.startswith("bokeh_app"):   # served; pn.state.served reads the whole call stack, 40 ms a page
    build_app().servable()
