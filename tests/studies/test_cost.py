"""A configuration over the server's budget is refused by the one validation every input shares,
with a message naming what to lower; every preset passes with room. Nothing here builds a model.
Run: pytest tests/studies/test_cost.py"""
import pytest

from sandbox.runtime import Runner
from sandbox.studies import cost
from sandbox.studies.associative_memory import AssociativeMemoryStudy
from sandbox.studies.base import STUDIES
from sandbox.studies.clustering import ClusteringStudy
from sandbox.studies.flow import FlowStudy
from sandbox.studies.grokking import GrokkingStudy
from sandbox.studies.grokking_seeds import SeedEnsemble, checked_config
from tests.conftest import wait_until

# The three measured cases of issue 21: 2.6-8.7 GB from one GET; minutes of early-model training
# after the session ended; 16.4 GB asked for per snapshot.
MEASURED = [
    (AssociativeMemoryStudy, dict(n_tokens=100_000, n_classes=1000, batch_size=65_536), "GB", "n_tokens"),
    (FlowStudy, dict(source="early model", early_steps=100_000, width=1024), "TFLOP", "early_steps"),
    (ClusteringStudy, dict(n_train=1_000_000, n_test=1_000_000), "GB", "n_train"),
]
PRESETS = [(cls, preset) for cls in STUDIES.values() for preset in cls.PRESETS]


@pytest.mark.parametrize("study, values, unit, setting", MEASURED, ids=[c.name for c, *_ in MEASURED])
def test_each_measured_configuration_is_refused_naming_the_settings_to_lower(study, values, unit, setting):
    with pytest.raises(ValueError, match=rf"needs about .* {unit}.*Lower .*{setting}"):
        study.validated({**study.preset_values(study.DEFAULT_PRESET), **values})


@pytest.mark.parametrize("study, preset", PRESETS, ids=[f"{c.name}:{p}" for c, p in PRESETS])
def test_every_preset_passes_with_room(study, preset):
    config = study.validated(study.preset_values(preset))
    estimate = config.cost()
    # The largest, grokking's nanda2023, measured 1.3 GB at its peak with its landscape: 1.45 GB estimated.
    assert estimate.memory <= 0.75 * cost.memory_budget() and estimate.work <= 0.1 * cost.work_budget()


def test_a_bigger_server_raises_the_budget_by_its_environment(monkeypatch):
    values = {**ClusteringStudy.preset_values("paper"), **MEASURED[2][1]}
    monkeypatch.setenv(cost.MEMORY_ENV, "4")
    assert ClusteringStudy.validated(values).n_train == 1_000_000
    monkeypatch.setenv(cost.MEMORY_ENV, "lots")
    with pytest.raises(ValueError, match=cost.MEMORY_ENV):
        ClusteringStudy.validated(values)


def test_the_estimate_grows_with_what_drives_it():
    small = AssociativeMemoryStudy.Config(n_tokens=1000, n_classes=100, batch_size=256).cost()
    wider = AssociativeMemoryStudy.Config(n_tokens=1000, n_classes=200, batch_size=256).cost()
    assert wider.memory > 1.8 * small.memory          # the logits dominate: (rows, n_classes)
    # 5 memories × (rows, n_classes) float32 logits, rows = max(5·batch, 3·n_tokens), recomputed by hand.
    assert small.memory >= 5 * 100 * max(5 * 256, 3 * 1000) * 4


def test_a_run_refuses_a_reset_to_it_before_building_anything():
    study = AssociativeMemoryStudy(device="cpu", n_tokens=20, batch_size=16)
    runner = Runner(study, observe_inline=True)
    try:
        runner.step_n(1)
        wait_until(lambda: runner.step == 1, timeout=30, what="the first step")
        model = study.model
        runner.reset(**MEASURED[0][1])
        wait_until(lambda: runner.message, timeout=30, what="the refusal")
        assert runner.message.startswith("Not applied") and "GB" in runner.message
        assert study.model is model and study.config.n_tokens == 20          # the run on screen is kept
    finally:
        runner.stop()


def test_seeds_are_counted_each_and_a_forged_count_is_refused():
    with pytest.raises(ValueError, match="between 1 and 256"):
        checked_config(10_000, "fast", device="cpu")
    with pytest.raises(ValueError, match="training 8 seeds at once needs .* GB"):     # measured: 9 GB at its peak
        SeedEnsemble(seeds=8, preset="fast", p=211, width=2048, device="cpu")
    # Each member fits alone and two fit together; eight do not, and the message names the seeds.
    checked_config(2, "fast", p=113, width=2048, device="cpu")
    with pytest.raises(ValueError, match="training 8 seeds at once needs .* Lower seeds"):
        checked_config(8, "fast", p=113, width=2048, device="cpu")


def test_a_grokking_transformer_too_big_alone_is_refused_too():
    with pytest.raises(ValueError, match="Lower d_mlp, d_model or p"):
        GrokkingStudy.validated({**GrokkingStudy.preset_values("nanda2023"), "p": 211, "d_model": 512, "d_mlp": 2048})
