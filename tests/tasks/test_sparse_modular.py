"""Sparse modular addition: targets by hand, S respected, bad input refused.
Run: pytest tests/tasks/test_sparse_modular.py"""
import numpy as np
import pytest

import torch

from sandbox.tasks.sparse_modular import curriculum_level, restrict_to_level, sparse_sum_task


def test_targets_on_hand_examples():
    task = sparse_sum_task(p=5, T=4, S=[0, 2])
    x = np.array([[1, 4, 3, 0], [4, 4, 4, 4], [0, 1, 0, 2]])
    assert task.target(x).tolist() == [4, 3, 0]  # 1+3, 4+4 = 8 ≡ 3, 0+0


def test_only_positions_in_s_matter():
    task = sparse_sum_task(p=7, T=10, k=3, seed=4)
    x, y = task.sample(500, np.random.default_rng(0))
    outside = ~task.mask
    scrambled = x.copy()
    scrambled[:, outside] = np.random.default_rng(1).integers(0, 7, size=(500, outside.sum()))
    assert np.array_equal(task.target(scrambled), y)
    changed = x.copy()
    changed[:, task.S[0]] = (changed[:, task.S[0]] + 1) % 7
    assert np.array_equal(task.target(changed), (y + 1) % 7)


def test_paper_default_is_the_first_k_positions_and_seeded_s_is_reproducible():
    assert sparse_sum_task(p=2, T=12, k=5).S == (0, 1, 2, 3, 4)
    assert sparse_sum_task(p=2, T=12, k=5, seed=3).S == sparse_sum_task(p=2, T=12, k=5, seed=3).S
    assert len(set(sparse_sum_task(p=2, T=12, k=5, seed=3).S)) == 5


def test_samples_are_seeded_and_in_range():
    task = sparse_sum_task(p=3, T=6, k=2)
    x1, y1 = task.sample(50, np.random.default_rng(2))
    x2, y2 = task.sample(50, np.random.default_rng(2))
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert x1.min() >= 0 and x1.max() < 3 and x1.shape == (50, 6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(p=2, T=4, k=5), "k must lie"), (dict(p=1, T=4, k=2), "p must be"),
    (dict(p=2, T=4, S=[0, 4]), "distinct positions"), (dict(p=2, T=4, S=[1, 1]), "distinct positions"),
    (dict(p=2, T=4), "either S")])
def test_bad_input_is_refused_with_a_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sparse_sum_task(**kwargs)


def test_curriculum_levels_climb_from_1_to_k_in_equal_stages():
    levels = [curriculum_level("k grows", step, 400, k=5) for step in (0, 99, 100, 250, 399, 400, 10_000)]
    assert levels == [1, 1, 2, 3, 4, 5, 5]
    assert curriculum_level("none", 0, 400, k=5) == 5
    with pytest.raises(ValueError, match="unknown curriculum"):
        curriculum_level("hard first", 0, 10, k=3)


def test_k_grows_batches_zero_the_later_positions_of_s_and_relabel():
    task = sparse_sum_task(p=5, T=4, S=[0, 2, 3])
    x = torch.tensor([[1, 4, 3, 2], [4, 4, 4, 4]])
    easy, y = restrict_to_level(task, x, level=2)
    assert easy.tolist() == [[1, 4, 3, 0], [4, 4, 4, 0]]     # position 3 (the third of S) held at 0
    assert y.tolist() == [4, 3]                              # 1+3, 4+4 ≡ 3
    assert x[0, 3] == 2                                      # the original batch is untouched
