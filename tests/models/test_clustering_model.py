"""The clustering-heads transformer against a hand computation. Run: pytest tests/models/test_clustering_model.py"""
import math

import pytest
import torch

from sandbox.models.clustering import ClusteringTransformer


def test_readout_matches_the_formula_with_one_head_and_no_norm_or_mlp():
    torch.manual_seed(0)
    m = ClusteringTransformer(p=3, T=4, d=2, norm="none", mlp=False)
    x = torch.tensor([[0, 2, 1, 1]])
    h = m.W_E[x[0]] + m.W_pos                                       # (T, d)
    weights = torch.softmax(h @ m.query[0] / math.sqrt(2), dim=0)   # (T,)
    z = (weights[:, None] * (h @ m.value[0])).sum(0)
    logits, taps = m(x, taps=True)
    torch.testing.assert_close(taps["readout.attn"][0, 0], weights)
    torch.testing.assert_close(logits[0], z @ m.W_E.T)


@pytest.mark.parametrize("n_layers, n_heads, norm", [(1, 1, "rms"), (2, 3, "layer"), (2, 2, "none")])
def test_shapes_taps_and_attention_rows_sum_to_one(n_layers, n_heads, norm):
    m = ClusteringTransformer(p=5, T=7, d=2, n_layers=n_layers, n_heads=n_heads, norm=norm, tie_output=False)
    logits, taps = m(torch.randint(0, 5, (8, 7)), taps=True)
    assert logits.shape == (8, 5)
    assert taps["readout.attn"].shape == (8, n_heads, 7) and taps["readout.out"].shape == (8, 2)
    torch.testing.assert_close(taps["readout.attn"].sum(-1), torch.ones(8, n_heads))
    for i in range(n_layers - 1):
        assert taps[f"layer{i}.attn"].shape == (8, n_heads, 7, 7)
        assert taps[f"layer{i}.resid"].shape == (8, 7, 2)


def test_gradients_reach_every_parameter():
    m = ClusteringTransformer(p=4, T=5, n_layers=2, n_heads=2)
    torch.nn.functional.cross_entropy(m(torch.randint(0, 4, (16, 5))), torch.randint(0, 4, (16,))).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in m.parameters())


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="unknown norm"):
        ClusteringTransformer(p=2, T=3, norm="batch")
    with pytest.raises(ValueError, match="n_layers"):
        ClusteringTransformer(p=2, T=3, n_layers=0)
