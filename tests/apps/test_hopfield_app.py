"""The Hopfield app without a server: clicks on patterns, restart controls. Run:
pytest tests/apps/test_hopfield_app.py"""
from types import SimpleNamespace

import numpy as np

from tests.apps.conftest import app_fixture
from tests.conftest import wait_until

app = app_fixture("hopfield")


def view(app, title_start):
    return next(v for v in app.controller.views if getattr(v, "figure", None) is not None
                and v.figure.title.text.startswith(title_start))


def shown(app):
    app.controller.tick()
    return app.controller.runner.mailbox.peek()


def restarted(c, **expected):
    """Wait for the run rebuilt with these settings and its first snapshot."""
    wait_until(lambda: all(getattr(c.study.config, k) == v for k, v in expected.items())
               and c.runner.mailbox.peek() is not None and c.runner.mailbox.peek().run_id == c.runner.run_id
               and c.runner.mailbox.peek().step == 0)


def test_pattern_grids_tile_the_stored_patterns_and_map_clicks_back_to_units(app):
    c = app.controller
    c.runner.run_headless(2)
    snap = shown(app)
    stored = view(app, "Stored patterns")
    mosaic = stored.source.data["image"][0]
    assert mosaic.shape == (6, 4 * 7 - 1)                          # four 6×6 tiles, 1-cell gaps
    np.testing.assert_array_equal(mosaic[::-1, 7:13], snap.arrays["patterns.stored"][1])
    assert stored.tile_at(8.5, 5.5) == (1, 1)                    # tile 1, top row, second column
    assert stored.tile_at(6.5, 2.0) is None                      # the gap between tiles 0 and 1
    assert len(stored.outlines.data["left"]) == 1                # the query's pattern is framed


def test_clicking_a_stored_pattern_queries_it_and_clicking_the_query_flips_a_cell(app):
    c = app.controller
    c.runner.run_headless(1)
    shown(app)
    view(app, "Stored patterns").clicked_tile = 2
    restarted(c, target=2)
    snap = shown(app)
    np.testing.assert_array_equal(snap.arrays["retrieval.images"][2], snap.arrays["patterns.stored"][2])
    query = snap.arrays["retrieval.images"][0].ravel().copy()
    retrieval = view(app, "Retrieval")
    tap = SimpleNamespace(x=5.5, y=5.5)                           # unit 5: top row, sixth column
    assert retrieval.tile_at(tap.x, tap.y) == (0, 5)
    retrieval._on_tap(tap)
    restarted(c, drawn=[5])
    edited = shown(app).arrays["retrieval.images"][0].ravel()
    assert edited[5] == -query[5] and np.array_equal(np.delete(edited, 5), np.delete(query, 5))
    retrieval._on_tap(tap)                                        # the same cell again: flipped back
    restarted(c, drawn=[])


def test_noise_is_a_live_control_that_restarts_the_retrieval_and_keeps_it_running(app):
    c = app.controller
    assert {"noise", "occlusion", "beta", "frame_ms"} <= set(c.live_widgets._widgets)
    assert "target" not in c.live_widgets._widgets and "noise" not in c.fixed_widgets._widgets
    c.settings.frame_ms = 200.0
    c.runner.start()
    wait_until(lambda: c.runner.step >= 2)
    c.settings.noise = 0.5
    wait_until(lambda: c.study.config.noise == 0.5 and c.runner.state == "running")
    wait_until(lambda: (c.runner.mailbox.peek() or SimpleNamespace(run_id=None)).run_id == c.runner.run_id)
    images = shown(app).arrays["retrieval.images"]
    assert (images[0] != images[2]).mean() == 18 / 36                  # the new query: half its units flipped


def test_a_bad_query_setting_is_refused_with_a_message_and_the_run_kept(app):
    c = app.controller
    c.runner.run_headless(1)
    run_id = c.runner.run_id
    c.settings.n_patterns = 2
    c.settings.target = 3                                          # not one of the 2 stored
    assert "Not applied" in c.message and c.runner.run_id == run_id
