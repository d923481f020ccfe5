"""Li et al. (2018), "Visualizing the Loss Landscape of Neural Nets", §4 filter normalisation,
implemented again from the paper on explicit (out, in) matrices and compared with ours.

For a random Gaussian direction d and weights θ, each filter (one output unit of a layer: a row of
an (out, in) matrix, like nn.Linear's weight) becomes d_ij / ‖d_ij‖ · ‖θ_ij‖; a parameter with one
axis (a bias) gets no component, as with their code's `ignore='biasbn'`.
Run: pytest tests/reference/test_li_filter_normalisation.py"""
import numpy as np
import pytest
import torch

from sandbox.analysis.landscape import filter_normalized_direction, output_axes, parameters_of
from sandbox.models.associative_memory import AssociativeMemories
from sandbox.models.clustering import ClusteringTransformer
from sandbox.models.mlp import PairMLP
from sandbox.models.transformer import GrokTransformer
from sandbox.models.velocity import VelocityMLP


def as_out_in(w: np.ndarray, out: tuple[int, ...]) -> np.ndarray:
    """The parameter as an (out, in) matrix: one row per output unit, its inputs along the row."""
    rest = [a for a in range(w.ndim) if a not in out]
    return np.transpose(w, (*out, *rest)).reshape(int(np.prod([w.shape[a] for a in out])), -1)


def li_filter_normalised(random: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The paper's rule on (out, in) matrices, one filter (row) at a time."""
    rows = [d * (np.linalg.norm(w) / np.linalg.norm(d)) for d, w in zip(random, weights)]
    return np.stack(rows)


MODELS = {
    "PairMLP": lambda: PairMLP(p=7, width=5),
    "GrokTransformer": lambda: GrokTransformer(p=7, d_model=8, n_heads=2, d_mlp=12),
    "ClusteringTransformer": lambda: ClusteringTransformer(p=5, T=4, d=3, n_layers=2, n_heads=2, ffn_dim=6,
                                                           tie_output=False),
    "AssociativeMemories": lambda: AssociativeMemories(n_tokens=9, n_classes=4, dims=(3, 6)),
    "VelocityMLP": lambda: VelocityMLP(width=6, depth=2, time_dim=4),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_our_direction_is_li_et_als_on_every_weight_laid_out_out_by_in(name):
    torch.manual_seed(1)
    model = MODELS[name]()
    params, axes = parameters_of(model), output_axes(model)
    ours = filter_normalized_direction(params, torch.Generator().manual_seed(7), axes)
    # The same Gaussian draw: one randn of each parameter's shape, in order, biases skipped.
    generator = torch.Generator().manual_seed(7)
    for pname, w in params.items():
        if w.ndim < 2:
            assert axes[pname] is None
            np.testing.assert_array_equal(ours[pname].numpy(), 0.0)
            continue
        random = torch.randn(w.shape, generator=generator).double().numpy()
        out = axes[pname]
        expected = li_filter_normalised(as_out_in(random, out), as_out_in(w.double().numpy(), out))
        np.testing.assert_allclose(as_out_in(ours[pname].double().numpy(), out), expected, rtol=1e-5, atol=1e-7,
                                   err_msg=f"{name}.{pname}, output axes {out}")
