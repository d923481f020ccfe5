"""The clustering-heads app without a server. Run: pytest tests/apps/test_clustering_app.py"""
import pytest

from tests.apps.conftest import build_app


@pytest.fixture
def app(tmp_path):
    app = build_app("clustering_heads", tmp_path)
    yield app
    app.controller.close()


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
