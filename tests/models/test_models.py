"""Models against references. Run: pytest tests/models/test_models.py"""
import torch
import torch.nn.functional as F

from sandbox.models.mlp import PairMLP
from sandbox.models.transformer import GrokTransformer


def test_pair_mlp_equals_dense_one_hot_matmul():
    torch.manual_seed(0)
    p, w = 7, 5
    model = PairMLP(p, w, "quadratic")
    a, b = torch.tensor([0, 3, 6]), torch.tensor([2, 2, 5])
    x = torch.cat([F.one_hot(a, p), F.one_hot(b, p)], dim=1).float()      # (3, 2p)
    W_in = torch.cat([model.W_a, model.W_b], dim=0)                         # (2p, w)
    expected = ((x @ W_in) ** 2) @ model.W_out
    torch.testing.assert_close(model(a, b), expected)


def test_relu_activation_and_bad_name():
    model = PairMLP(5, 4, "relu")
    assert (model.hidden(torch.tensor([1]), torch.tensor([2])) >= 0).all()
    try:
        PairMLP(5, 4, "tanh")
    except ValueError as exc:
        assert "unknown activation" in str(exc)
    else:
        raise AssertionError("a bad activation name was accepted")


def test_transformer_shapes_and_causality():
    torch.manual_seed(0)
    model = GrokTransformer(p=11, d_model=16, n_heads=4, d_mlp=32)
    a, b = torch.tensor([1, 2, 3]), torch.tensor([4, 5, 6])
    assert model(a, b).shape == (3, 11)
    assert model.hidden(a, b).shape == (3, 32)
    assert model.token_embedding().shape == (11, 16) and model.output_weights().shape == (32, 11)
    # The logit depends on both operands (attention from `=` reads a and b).
    assert not torch.allclose(model(a, b), model(a, b.flip(0)))
