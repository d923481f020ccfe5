"""Clustering heads: a transformer with 2-D embeddings learns sparse modular addition."""
import panel as pn
from bokeh.palettes import Category10_10, Viridis256

from sandbox.studies.clustering import ClusteringStudy
from sandbox.ui import StudyApp, StudyController
from sandbox.serving.extension import load_extensions
from sandbox.ui.landscape import LandscapeSection
from sandbox.views import Bars, Curves, Image, LinkedPlanes, Scatter

load_extensions("vtk")

INTRO = """**Clustering heads.** Each sequence of T tokens in Z_p is labelled by the sum of the tokens
at a few positions S, mod p. Token and position embeddings live in the plane, so everything the
model computes can be drawn. Press **Start**: first the read-out stops listening to positions
outside S, then the read-out points of whole sequences gather into clusters and the output layer
carves the plane into one region per class. **Box-select** points in any of the three linked planes
to follow the same sequences through the model; hover a point to read its sequence."""

CATEGORY = dict(palette=list(Category10_10), color_range=(-0.5, 9.5))


def build_app(preset: str | None = None, runs_root: str = "runs", **study_params) -> StudyApp:
    accuracy = Curves("Accuracy (log step)", {"acc.train": "train", "acc.test": "test"}, y_range=(-0.02, 1.02),
                      description="Chance is 1/p.")
    loss = Curves("Loss and gradient norm (log–log)", {"loss.train": "train loss", "loss.test": "test loss",
                                                       "grad.norm": "gradient norm"},
                  markers={"loss.spike": "spike (minibatch loss)"}, log_y=True,
                  description="Red marks: a minibatch loss 10× the median of the 20 before it "
                              "(try the 'loss spikes' preset). Spikes in the gradient norm come with them.")
    structure = Curves("What the read-out listens to", {"influence.on_s": "influence of S",
                                                        "attn.mass_on_s": "attention on S (best head)"},
                       y_range=(0, 1.02),
                       description="Influence: share of the read-out's movement caused by changing a token in S. "
                                   "It reaches ~0.9 while attention stays near k/T: positions outside S are "
                                   "silenced by their embeddings, not by attention.")
    clusters = Curves("Cluster quality of read-out embeddings", {"cluster.by_pattern": "by tokens in S",
                                                               "cluster.by_sum": "by Σ over S",
                                                               "cluster.by_target": "by target (mod p)"},
                      log_y=True, description="Between- over within-group variance: sequences the task cannot "
                                              "tell apart collapse together.")
    planes = LinkedPlanes(
        "readout.stages",
        ["Entering the read-out (mean over positions)", "Read-out z, coloured by Σ over S",
         "After the MLP, coloured by target"],
        [("readout.sum", list(Viridis256), None), ("readout.sum", list(Viridis256), None),
         ("readout.target", list(Category10_10), (-0.5, 9.5))],
        label_key="readout.sequences", extra_keys={"Σ over S": "readout.sum", "target": "readout.target"},
        description="The same 512 test sequences in three planes. Select a group in one plane: "
                    "it lights up in the others.")
    regions = Image("readout.regions", "Decision regions of the read-out z", x_label="z₁", y_label="z₂",
                    extent_key="readout.regions_extent", palette=list(Category10_10), low=-0.5, high=9.5,
                    colorbar=False, height=300, description="The class the model predicts at each point of "
                                                            "the plane; compare with the middle plane above.")
    by_target = Scatter(None, None, "Read-out z, coloured by target", points_key="readout.points",
                        color_key="readout.target", label_key="readout.sequences", height=300, **CATEGORY,
                        description="Same points as the middle plane: each class region should hold its colour.")
    influence = Bars("influence.per_position", "Influence of each position on the read-out", x_label="position",
                     highlight_key="subset.positions", first_x=0,
                     description="Orange: positions in S. Mean distance z moves when that position's token changes.")
    attention_map = Image("attn.readout_mean", "Mean read-out attention (head × position)", x_label="position",
                          y_label="head", palette="Viridis256", low=0, height=260,
                          description="Averaged over test sequences.")
    mixing = Image("attn.layer0_mean", "Layer 1 attention (query × key, heads side by side)", x_label="key position",
                   y_label="query position", palette="Viridis256", low=0, height=260,
                   missing="set n_layers = 2 in Settings and Reset",
                   description="The mixing layer before the read-out, averaged over test sequences.")
    tokens = Scatter(None, None, "Token and position embeddings", points_key="embed.points", color_key="embed.kind",
                     label_key="embed.label", height=260, **CATEGORY,
                     description="Blue: tokens; orange: positions in S; green: positions outside S.")
    per_class = Bars("acc.per_class", "Test accuracy per class", x_label="class", first_x=0)
    views = [accuracy, loss, structure, clusters, planes, regions, by_target, influence, attention_map, mixing,
             tokens, per_class]
    landscape = LandscapeSection("train loss", hover_metrics={"loss.train": "train loss", "acc.test": "test accuracy"})
    views += landscape.views
    controller = StudyController(ClusteringStudy, views, preset=preset, runs_root=runs_root,
                                 study_params=study_params, snapshot_every=50, landscape=True)
    rows = [[accuracy, loss], [structure, clusters], [planes], [regions, by_target], [influence, attention_map],
            [mixing, tokens, per_class], *landscape.rows(controller)]
    return StudyApp(controller, rows, title="Clustering heads", intro=INTRO)


if __name__.startswith("bokeh_app"):   # served; pn.state.served reads the whole call stack, 40 ms a page
    build_app().servable()
