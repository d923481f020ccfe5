"""The clustering-heads app without a server. Run: pytest tests/apps/test_clustering_app.py"""
import pytest

from tests.apps.conftest import app_fixture, opened_app


app = app_fixture("clustering_heads")


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


def test_the_three_planes_share_one_source_so_a_selection_in_one_shows_in_all(app):
    c = app.controller
    c.runner.run_headless(60)
    c.tick()
    planes = next(v for v in c.views if type(v).__name__ == "LinkedPlanes")
    sources = {id(r.data_source) for fig in planes.figures for r in fig.renderers}
    assert len(planes.figures) == 3 and len(sources) == 1
    assert len(planes.source.data["x2"]) == 48 and len(planes.source.data["label"][0].split()) == 5
    planes.source.selected.indices = [3, 7]
    c.runner.run_headless(50)
    c.tick()                                      # new points for the same sequences: selection kept
    assert planes.selected == [3, 7]


def test_layer_one_attention_appears_with_two_layers_and_explains_itself_with_one(tmp_path):
    with opened_app("clustering_heads", tmp_path) as one, \
            opened_app("clustering_heads", tmp_path, n_layers=2, n_heads=2) as two:
        for app in (one, two):
            app.controller.runner.run_headless(10)
            app.controller.tick()
        mixing = [next(v for v in app.controller.views if getattr(v, "key", None) == "attn.layer0_mean")
                  for app in (one, two)]
        assert "n_layers = 2" in mixing[0].figure.title.text
        assert mixing[1].source.data["image"][0].shape == (5, 10)      # T queries × (2 heads · T keys)
        assert "n_layers" not in mixing[1].figure.title.text
