"""Clustering-heads study, headless: snapshot contract, validation, learning.
Run: pytest tests/studies/test_clustering.py  (the slow one: -m slow)"""
import numpy as np
import pytest
import torch

from sandbox.runtime import Runner
from sandbox.studies.clustering import ClusteringStudy
from tests.conftest import built

TINY = ClusteringStudy.TINY


@pytest.fixture
def study():
    return built(ClusteringStudy(preset="paper", **TINY))


def test_snapshot_holds_the_metrics_with_the_right_shapes(study):
    for _ in range(3):
        study.step()
    scalars, arrays = study.snapshot()
    for key in ("loss.train", "loss.test", "acc.train", "acc.test", "grad.norm", "attn.mass_on_s",
                "cluster.by_sum", "cluster.by_target", "influence.on_s"):
        assert np.isfinite(scalars[key]), key
    shapes = {"embed.tokens": (3, 2), "embed.positions": (5, 2), "attn.readout_mean": (1, 5), "attn.mass_on_s": (1,),
              "readout.points": (48, 2), "readout.target": (48,), "readout.sum": (48,), "readout.sequences": (48, 5),
              "acc.per_class": (3,), "subset.mask": (5,), "readout.regions": (64, 64), "influence.per_position": (5,)}
    for key, shape in shapes.items():
        assert arrays[key].shape == shape, key
    np.testing.assert_allclose(arrays["attn.readout_mean"].sum(-1), 1.0, rtol=1e-5)
    assert arrays["subset.mask"].tolist() == [True, True, False, False, False]
    assert set(np.unique(arrays["readout.regions"])) <= {0, 1, 2}
    # The label is the integer sum over S, mod p.
    np.testing.assert_array_equal(arrays["readout.target"], arrays["readout.sum"] % 3)


def test_minibatches_walk_through_epochs_of_the_training_set(study):
    seen = torch.cat([study._next_indices(level=2) for _ in range(4)])  # 4 × 16 = one epoch of 64
    assert sorted(seen.tolist()) == list(range(64))


def test_easy_first_draws_only_sequences_with_few_nonzero_tokens_in_s():
    s = built(ClusteringStudy(preset="paper", **{**TINY, "k": 3, "curriculum": "easy first", "curriculum_steps": 100}))
    x, _ = s._next_batch()
    assert (x[:, :3] != 0).sum(1).max() <= 1            # level 1 at the start
    s.steps_done = 100
    x, _ = s._next_batch()                              # the full task: any sequence
    assert x.shape == (16, 5)


def test_k_grows_holds_later_positions_of_s_at_zero_and_labels_match():
    s = built(ClusteringStudy(preset="paper", **{**TINY, "k": 3, "curriculum": "k grows", "curriculum_steps": 100}))
    x, y = s._next_batch()
    assert (x[:, 1:3] == 0).all() and (y == x[:, 0] % 3).all()
    s.step()
    assert s.capture()["curriculum_level"] == 1
    s.steps_done = 50
    x, y = s._next_batch()
    assert (x[:, 2] == 0).all() and (y == (x[:, 0] + x[:, 1]) % 3).all()


def test_a_loss_spike_since_the_last_capture_is_reported_once(study):
    for loss in [0.01] * 20 + [0.5, 0.9, 0.01]:   # two spikes before the capture: the larger is kept
        study._note_loss(loss)
    assert study.capture()["spike_loss"] == 0.9
    assert np.isnan(study.capture()["spike_loss"])


def test_bad_settings_are_refused(study):
    with pytest.raises(ValueError, match="cannot exceed"):
        study.configure(k=6)
    with pytest.raises(ValueError, match="Reset"):
        study.set_param("T", 8)
    study.set_param("lr", 0.01)
    assert study.optimizer.param_groups[0]["lr"] == 0.01


def test_losses_left_on_the_device_are_read_back_at_capture_with_the_same_spikes_and_norm():
    """The GPU path (losses read back together at the next capture), run on a CPU: the same records."""
    each, deferred = (built(ClusteringStudy(preset="paper", **{**TINY, "lr": 0.3})) for _ in range(2))
    deferred.read_each_step = False
    for _ in range(40):
        assert float(deferred.step()) == pytest.approx(each.step(), rel=1e-6)
    assert len(deferred._pending) == 40
    a, b = each.capture_extra(), deferred.capture_extra()
    assert deferred._pending == [] and b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-5)
    assert np.isnan(b["spike_loss"]) if np.isnan(a["spike_loss"]) else b["spike_loss"] == pytest.approx(a["spike_loss"])


def test_each_pattern_over_s_has_its_own_label_however_large_p_to_the_k(monkeypatch):
    """The patterns were numbered Σ x_s p^i in int64: at p = 64, k = 12, 64^11 = 2^66 wraps to 0, so two
    sequences differing only in S's last position shared a number and the by-pattern score merged them."""
    from sandbox.tasks.sparse_modular import SparseSumTask

    sample = SparseSumTask.sample

    def crafted(task, n, rng):          # the test set: pairs of sequences that differ in one position of S
        x, y = sample(task, n, rng)
        if n == 16:
            x[:] = 0
            x[1, task.S[-1]] = x[3, task.S[0]] = 1
        return x, y
    monkeypatch.setattr(SparseSumTask, "sample", crafted)
    study = built(ClusteringStudy(preset="paper", **{**TINY, "p": 64, "T": 14, "k": 12, "n_test": 16}))
    labels = study.pattern_test
    assert labels[0] == labels[2] and len({labels[0], labels[1], labels[3]}) == 3
