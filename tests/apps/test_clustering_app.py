"""The clustering-heads app without a server. Run: pytest tests/apps/test_clustering_app.py"""
import importlib.util
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "apps" / "clustering_heads.py"
TINY = dict(p=3, T=5, k=2, n_train=64, n_test=48, batch_size=16, ffn_dim=8, device="cpu")


@pytest.fixture
def app(tmp_path):
    spec = importlib.util.spec_from_file_location("clustering_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.build_app(runs_root=str(tmp_path), **TINY)
    yield app
    app.controller.close()


def test_every_key_the_views_read_is_in_the_snapshot(app):
    study = app.controller.study
    study.build()
    scalars, arrays = study.snapshot()
    required = set().union(*(view.required_keys() for view in app.controller.views))
    assert required <= set(scalars) | set(arrays)


def test_tick_feeds_the_scatter_with_sequences_and_the_regions_with_their_extent(app):
    c = app.controller
    c.runner.run_headless(60)
    c.tick()
    by_target = next(v for v in c.views if getattr(v, "color_key", None) == "readout.target")
    assert len(by_target.source.data["x"]) == 48
    assert len(by_target.source.data["label"][0].split()) == 5        # hover shows the 5 tokens
    regions = next(v for v in c.views if getattr(v, "key", None) == "readout.regions")
    extent = c.runner.mailbox.peek().arrays["readout.regions_extent"]
    assert regions.source.data["x"][0] == pytest.approx(float(extent[0]))
    assert regions.source.data["dw"][0] == pytest.approx(float(extent[1] - extent[0]))
