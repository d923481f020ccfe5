"""Seeds trained together (vmap over stacked parameters) match the same seeds trained one by one.
Run: pytest tests/studies/test_grokking_seeds.py"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sandbox.models.ensemble import Ensemble
from sandbox.models.mlp import PairMLP
from sandbox.studies.grokking import GrokkingStudy
from sandbox.studies.grokking_seeds import SeedEnsemble
from sandbox.tasks.modular import modular_table

TINY = {**GrokkingStudy.TINY, "seed": 3}


def separate_run(seed: int, steps: int) -> PairMLP:
    """What GrokkingStudy does for one seed, with the data split of TINY's seed."""
    table = modular_table(11, "add", 0.5, TINY["seed"])
    torch.manual_seed(seed)
    model = PairMLP(11, 16, "quadratic", 1.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=1.0, betas=(0.9, 0.98))
    a, b, y = (torch.as_tensor(v[table.train]) for v in (table.a, table.b, table.y))
    for _ in range(steps):
        loss = F.cross_entropy(model(a, b), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def test_an_ensemble_outputs_what_each_member_outputs():
    torch.manual_seed(0)
    members = [PairMLP(11, 8) for _ in range(3)]
    a, b = torch.arange(11), torch.arange(11).flip(0)
    out = Ensemble(members)(a, b)
    assert out.shape == (3, 11, 11)
    for i, m in enumerate(members):
        torch.testing.assert_close(out[i], m(a, b))


def test_seeds_trained_together_match_the_same_seeds_trained_one_by_one():
    ensemble = SeedEnsemble(seeds=3, **TINY)
    for _ in range(40):
        ensemble.step()
    for i, seed in enumerate(ensemble.seeds):
        alone = separate_run(int(seed), 40)
        member = ensemble.model.member(i)
        for name, value in alone.state_dict().items():
            torch.testing.assert_close(member[name], value.detach(), rtol=1e-4, atol=1e-5, msg=name)


def test_the_spread_reports_each_seeds_accuracy_grokking_step_and_key_frequencies():
    spread = SeedEnsemble(seeds=4, **TINY).run(steps=60, every=20)
    assert list(spread.steps) == [20, 40, 60] and spread.test_accuracy.shape == (4, 3)
    assert spread.key_frequencies.shape == (4, 5) and spread.frequency_wins.sum() == 20
    assert spread.key_frequencies.min() >= 1 and spread.key_frequencies.max() <= 5   # p = 11: k = 1 … 5
    grokked = ~np.isnan(spread.grok_step)
    assert np.all(spread.test_accuracy[grokked, -1] >= 0.95) or not grokked.any()
    with pytest.raises(ValueError, match="MLP"):
        SeedEnsemble(seeds=2, preset="nanda2023", device="cpu")
