"""Our progress measures against Nanda et al. 2023's own definitions, recomputed here from the
paper and its analysis code (mechanistic-interpretability-grokking/progress-measures-paper),
independently of sandbox.analysis: nothing below imports our Fourier code.
Run: pytest tests/reference/test_nanda_progress_measures.py

Nanda's definitions, over the whole p × p grid of inputs (a, b), a-major:
- Fourier basis of Z_p: orthonormal rows [1, cos w_1 x, sin w_1 x, …], w_k = 2πk/p.
- A neuron's frequency: centre its activations over the grid, take their 2-D Fourier transform,
  and find the k whose 8 terms (cos/sin w_k in a alone, in b alone, and the 4 products of
  both) explain the largest fraction of its variance. The key frequencies are the distinct
  frequencies of the neurons (np.unique of the neurons' frequencies).
- Restricted loss: keep only the logits' components along cos w_k(a+b) and sin w_k(a+b) for
  the key k, add back the mean logit per class (the "bias correction"), loss on all pairs.
- Excluded loss: subtract those components from the logits, loss on the training pairs.
"""
import numpy as np
import pytest
import torch

from sandbox.studies.grokking import GrokkingStudy
from tests.conftest import built

P = 13


def nanda_basis(p):
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.ones(p)]
    for k in range(1, p // 2 + 1):
        rows += [torch.cos(2 * torch.pi * k * x / p), torch.sin(2 * torch.pi * k * x / p)]
    basis = torch.stack(rows).to(torch.float64)
    return basis / basis.norm(dim=1, keepdim=True)


def nanda_key_frequencies(neuron_acts, p):
    """neuron_acts (p², d) → the distinct frequencies of the neurons, as Nanda's notebook finds them."""
    basis = nanda_basis(p)
    acts = neuron_acts.to(torch.float64)
    acts = acts - acts.mean(dim=0, keepdim=True)
    grid = acts.reshape(p, p, -1)
    fourier = torch.einsum("xyn,fx,Fy->fFn", grid, basis, basis).reshape(p * p, -1)   # (p², d)
    norms = fourier.pow(2).sum(0)
    indices = []
    for freq in range(1, p // 2 + 1):
        c, s = 2 * freq - 1, 2 * freq
        indices.append([c, s, c * p, s * p, c * p + c, c * p + s, s * p + c, s * p + s])
    explained = fourier[torch.tensor(indices).flatten()].reshape(p // 2, 8, -1).pow(2).sum(1) / norms
    live = norms > 1e-12 * norms.max()                 # a dead neuron has no frequency
    neuron_freqs = explained.argmax(0)[live] + 1
    return np.unique(neuron_freqs.numpy())


def xpy_directions(freq, p):
    """Nanda's unit vectors cos w(a+b) and sin w(a+b) over the grid, from the 2-D basis terms."""
    basis = nanda_basis(p)
    term = lambda i, j: (basis[i][:, None] * basis[j][None, :]).flatten()  # noqa: E731
    c, s = 2 * freq - 1, 2 * freq
    return (term(c, c) - term(s, s)) / np.sqrt(2), (term(s, c) + term(c, s)) / np.sqrt(2)


def cross_entropy(logits, labels):
    return -torch.log_softmax(logits, dim=-1).gather(1, labels[:, None]).mean().item()


def nanda_restricted_and_excluded(logits, labels, is_train, key_freqs, p):
    logits = logits.to(torch.float64)
    trig = torch.zeros_like(logits)
    for freq in key_freqs:
        for direction in xpy_directions(int(freq), p):
            trig += direction[:, None] @ (direction[None, :] @ logits)
    restricted = trig + (logits - trig).mean(0, keepdim=True)   # bias correction
    excluded = logits - trig
    return cross_entropy(restricted, labels), cross_entropy(excluded[is_train], labels[is_train])


@pytest.fixture(scope="module")
def trained():
    """A small PairMLP trained until it has memorised and is generalising (p = 13)."""
    torch.manual_seed(0)
    study = built(GrokkingStudy(preset="fast", p=P, width=48, train_fraction=0.5, device="cpu"))
    for _ in range(400):
        study.step()
    return study


def reference(study):
    a, b = torch.arange(P * P) // P, torch.arange(P * P) % P
    labels = (a + b) % P
    with torch.no_grad():
        logits, hidden = study.model.forward_with_hidden(a, b)
    is_train = torch.as_tensor(study.table.is_train_grid.flatten())
    keys = nanda_key_frequencies(hidden, P)
    restricted, excluded = nanda_restricted_and_excluded(logits, labels, is_train, keys, P)
    return keys, restricted, excluded, hidden


def test_the_study_reports_nandas_key_frequencies_and_losses(trained):
    keys, restricted, excluded, _ = reference(trained)
    scalars, arrays = trained.snapshot()
    assert sorted(arrays["fourier.key_frequencies"].tolist()) == keys.tolist()
    assert scalars["loss.restricted"] == pytest.approx(restricted, rel=1e-3, abs=1e-6)
    assert scalars["loss.excluded"] == pytest.approx(excluded, rel=1e-3, abs=1e-6)


def two_frequency_study():
    """A PairMLP whose neurons are set by hand to cos(w_k a + φ) and cos(w_k b + ψ) for k ∈ {2, 5}
    (random phases, random read-out): the neurons use two of the six frequencies."""
    study = built(GrokkingStudy(preset="fast", p=P, width=24, train_fraction=0.5, device="cpu"))
    rng = np.random.default_rng(1)
    x = np.arange(P)[:, None]
    k = np.where(np.arange(24) % 2 == 0, 2, 5)[None, :]
    phase_a, phase_b = rng.uniform(-np.pi, np.pi, (2, 1, 24))
    with torch.no_grad():
        study.model.W_a.copy_(torch.as_tensor(np.cos(2 * np.pi * k * x / P + phase_a)))
        study.model.W_b.copy_(torch.as_tensor(np.cos(2 * np.pi * k * x / P + phase_b)))
        study.model.W_out.copy_(torch.as_tensor(rng.normal(size=(24, P))))
    return study


def transformer_study():
    """Nanda's transformer, briefly trained: its neurons see a and b only through attention."""
    torch.manual_seed(0)
    study = built(GrokkingStudy(preset="nanda2023", p=P, d_model=16, n_heads=2, d_mlp=24, train_fraction=0.5,
                                device="cpu"))
    for _ in range(30):
        study.step()
    return study


@pytest.mark.parametrize("make", [
    lambda: built(GrokkingStudy(preset="fast", p=P, width=48, train_fraction=0.5, device="cpu")),
    two_frequency_study, transformer_study], ids=["initialisation", "two_frequencies", "transformer"])
def test_the_study_agrees_with_nanda_on_other_models(make):
    study = make()
    keys, restricted, excluded, _ = reference(study)
    scalars, arrays = study.snapshot()
    assert sorted(arrays["fourier.key_frequencies"].tolist()) == keys.tolist()
    assert scalars["loss.restricted"] == pytest.approx(restricted, rel=1e-3, abs=1e-6)
    assert scalars["loss.excluded"] == pytest.approx(excluded, rel=1e-3, abs=1e-6)


def test_our_neuron_analysis_matches_nandas_on_the_same_activations(trained):
    from sandbox.analysis import progress
    keys, *_ , hidden = reference(trained)
    energy, total = progress.neuron_frequency_energy(hidden.numpy(), P)
    assert progress.neuron_key_frequencies(energy, total).tolist() == keys.tolist()


def test_the_reference_itself_finds_the_hand_set_frequencies():
    keys, restricted, excluded, _ = reference(two_frequency_study())
    assert keys.tolist() == [2, 5]


def nanda_transformer_forward(m, a, b):
    """Nanda's one-layer model written out at every position (causal attention over `a b =`, as
    his `Transformer`), read at the last: (logits (B, p), MLP neurons at `=` (B, d_mlp))."""
    tokens = torch.stack([a, b, torch.full_like(a, m.p)], dim=1)
    x = m.W_E[tokens] + m.W_pos                                          # (B, 3, d)
    q, k, v = (torch.einsum("btd,hde->bhte", x, W) for W in m.W_QKV)    # (B, H, 3, dh)
    scores = q @ k.transpose(-1, -2) / m.d_head ** 0.5
    scores = scores.masked_fill(~torch.tril(torch.ones(3, 3, dtype=torch.bool)), float("-inf"))
    x = x + torch.einsum("bhte,hed->btd", scores.softmax(-1) @ v, m.W_O)
    hidden = torch.relu(x @ m.W_in + m.b_in)                             # (B, 3, d_mlp)
    x = x + hidden @ m.W_out + m.b_out
    return (x @ m.W_U)[:, -1], hidden[:, -1]


def test_our_transformer_computes_only_the_last_position_of_nandas_model():
    study = transformer_study()
    a, b = torch.arange(P * P) // P, torch.arange(P * P) % P
    with torch.no_grad():
        logits, hidden = study.model.forward_with_hidden(a, b)
        expected_logits, expected_hidden = nanda_transformer_forward(study.model, a, b)
    torch.testing.assert_close(logits, expected_logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(hidden, expected_hidden, rtol=1e-5, atol=1e-5)
