"""Modular tables: labels, splits, seeds. Run: pytest tests/tasks/test_modular.py"""
import numpy as np
import pytest

from sandbox.tasks.modular import is_prime, modular_table


@pytest.mark.parametrize("operation, a, b, expected", [
    ("add", 5, 9, 3), ("sub", 2, 5, 8), ("mul", 4, 6, 2), ("square_sum", 3, 4, 3)])
def test_labels_on_hand_examples(operation, a, b, expected):
    table = modular_table(11, operation, 0.5, seed=0)
    i = a * 11 + b
    assert (table.a[i], table.b[i], table.y[i]) == (a, b, expected)


def test_split_is_disjoint_complete_sized_and_seeded():
    table = modular_table(13, "add", 0.3, seed=1)
    assert len(table.train) == round(0.3 * 169)
    assert set(table.train).isdisjoint(table.test)
    assert sorted(np.concatenate([table.train, table.test])) == list(range(169))
    assert np.array_equal(modular_table(13, "add", 0.3, seed=1).train, table.train)
    assert not np.array_equal(modular_table(13, "add", 0.3, seed=2).train, table.train)
    assert table.is_train_grid.sum() == len(table.train)


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match="train fraction"):
        modular_table(11, "add", 1.0)
    with pytest.raises(ValueError, match="unknown operation"):
        modular_table(11, "pow", 0.5)
    with pytest.raises(ValueError, match="at least 2"):
        modular_table(1, "add", 0.5)


def test_is_prime():
    assert [n for n in range(20) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19]
