"""Clustering heads: a transformer with 2-D embeddings learns sparse modular addition."""
import panel as pn
from bokeh.palettes import Category10_10, Viridis256

from sandbox.studies.clustering import ClusteringStudy
from sandbox.ui import StudyApp, StudyController
from sandbox.views import Bars, Curves, Image, Scatter

pn.extension(notifications=False)

INTRO = """**Clustering heads.** Each sequence of T tokens in Z_p is labelled by the sum of the tokens
at a few positions S, mod p. Token and position embeddings live in the plane, so everything the
model computes can be drawn. Press **Start**: the read-out embeddings of whole sequences gather
into clusters, one per value of the sum over S, and the output layer carves the plane into
regions, one per class. Hover a point to see its sequence."""

CATEGORY = dict(palette=list(Category10_10), color_range=(-0.5, 9.5))


def build_app(preset: str | None = None, runs_root: str = "runs", **study_params) -> StudyApp:
    accuracy = Curves("Accuracy (log step)", {"acc.train": "train", "acc.test": "test"}, y_range=(-0.02, 1.02),
                      description="Chance is 1/p.")
    loss = Curves("Loss and gradient norm (log–log)", {"loss.train": "train loss", "loss.test": "test loss",
                                                       "grad.norm": "gradient norm"}, log_y=True,
                  description="Spikes in the gradient norm often come with jumps in the loss.")
    clusters = Curves("Cluster quality of read-out embeddings", {"cluster.by_sum": "by Σ over S",
                                                               "cluster.by_target": "by target (mod p)"},
                      log_y=True, description="Between- over within-group variance: sequences with equal "
                                              "sums collapse together.")
    attention = Curves("Read-out attention on S", {"attn.mass_on_s": "best head"}, y_range=(0, 1.02),
                       description="Share of the read-out attention on the positions in S (uniform: k/T).")
    by_target = Scatter(None, None, "Read-out embeddings, coloured by target", points_key="readout.points",
                        color_key="readout.target", label_key="readout.sequences", **CATEGORY,
                        description="One point per test sequence (512 shown).")
    by_sum = Scatter(None, None, "Read-out embeddings, coloured by Σ over S", points_key="readout.points",
                     color_key="readout.sum", label_key="readout.sequences", palette=list(Viridis256),
                     description="Clusters line up by the integer sum; the classes interleave along them.")
    regions = Image("readout.regions", "Decision regions of the read-out", x_label="z₁", y_label="z₂",
                    extent_key="readout.regions_extent", palette=list(Category10_10), low=-0.5, high=9.5,
                    colorbar=False, height=300, description="The class the model predicts at each point of the plane.")
    attention_map = Image("attn.readout_mean", "Mean read-out attention (head × position)", x_label="position",
                          y_label="head", palette="Viridis256", low=0, height=300,
                          description="Averaged over test sequences; S holds the first k positions in the paper preset.")
    tokens = Scatter(None, None, "Token embeddings W_E", points_key="embed.tokens",
                     description="Where each token value sits in the plane.")
    per_class = Bars("acc.per_class", "Test accuracy per class", x_label="class", first_x=0)
    views = [accuracy, loss, clusters, attention, by_target, by_sum, regions, attention_map, tokens, per_class]
    controller = StudyController(ClusteringStudy, views, preset=preset, runs_root=runs_root,
                                 study_params=study_params, snapshot_every=50)
    rows = [[accuracy, loss], [clusters, attention], [by_target, by_sum], [regions, attention_map],
            [tokens, per_class]]
    return StudyApp(controller, rows, title="Clustering heads", intro=INTRO)


if pn.state.served:
    build_app().servable()
