"""Associative-memory metrics and the Zipf task by hand. Run: pytest tests/analysis/test_memory.py"""
import numpy as np
import pytest
import torch

from sandbox.analysis.memory import power_law_exponent, zipf_error
from sandbox.models.associative_memory import AssociativeMemories
from sandbox.tasks.zipf import ZipfAssociations


def test_error_weights_each_wrong_token_by_its_probability():
    assert zipf_error([True, False, True, False], [0.4, 0.3, 0.2, 0.1]) == pytest.approx(0.4)
    assert zipf_error([True] * 3, [0.5, 0.3, 0.2]) == 0.0


def test_exponent_of_an_exact_power_law():
    d = np.array([4, 8, 16, 32])
    assert power_law_exponent(d, 3.0 * d ** -0.75) == pytest.approx(-0.75)
    assert np.isnan(power_law_exponent(d, [0.1, 0, 0, 0]))         # one positive error: no slope


def test_zipf_task_by_hand():
    task = ZipfAssociations.make(3, 2, alpha=1.0, seed=0)
    np.testing.assert_allclose(task.probabilities.numpy(), np.array([1, 1 / 2, 1 / 3]) / (11 / 6), rtol=1e-6)
    tokens, labels = task.sample(20_000, torch.Generator().manual_seed(0))
    assert np.bincount(tokens.numpy()) / 20_000 == pytest.approx(task.probabilities.numpy(), abs=0.01)
    assert torch.equal(labels, task.labels[tokens])
    with pytest.raises(ValueError, match="Zipf"):
        ZipfAssociations.make(3, 2, alpha=0.0, seed=0)


def test_memories_of_every_size_map_tokens_to_class_logits():
    model = AssociativeMemories(10, 3, (2, 5))
    logits = model(torch.tensor([0, 9, 9]))
    assert [tuple(x.shape) for x in logits] == [(3, 3), (3, 3)]
    assert torch.equal(logits[1][1], logits[1][2])                  # same token, same answer
    # The output is linear in W: a zero memory answers zero for every class.
    with torch.no_grad():
        model.memories[0].zero_()
    assert torch.count_nonzero(model(torch.tensor([3]))[0]) == 0
