"""The seed-spread panel of the grokking app, without a browser. Run: pytest tests/apps/test_seed_panel.py"""
import numpy as np

from sandbox.ui.seeds import SeedSpreadPanel
from tests.apps.conftest import opened_app


def seed_panel(app) -> SeedSpreadPanel:
    return next(item for row in app.rows for item in row if isinstance(item, SeedSpreadPanel))


def test_seeds_train_together_and_show_their_curves_and_frequencies(tmp_path):
    with opened_app("grokking", tmp_path) as app:
        panel = seed_panel(app)
        panel.seeds.value, panel.steps.value = 3, 60
        panel.run()
        assert panel.run_button.disabled and not panel.stop_button.disabled
        assert panel.wait(60)
        panel.tick()
        curves = panel.curves_source.data
        assert len(curves["ys"]) == 3 and curves["xs"][0][-1] == 60 and len(curves["xs"][0]) == len(curves["ys"][0])
        assert np.all((np.array(curves["ys"]) >= 0) & (np.array(curves["ys"]) <= 1))
        # p = 11 has 5 frequencies and each seed reports its 5 strongest: every k counts every seed.
        assert list(panel.wins_source.data["k"]) == [1, 2, 3, 4, 5] and list(panel.wins_source.data["seeds"]) == [3] * 5
        assert panel.spread.seeds.tolist() == [0, 1, 2]           # the app's seed, then the next ones
        assert "Done" in panel.status.object and not panel.run_button.disabled


def test_stop_ends_the_seeds_early_and_a_transformer_is_refused(tmp_path):
    with opened_app("grokking", tmp_path) as app:
        panel = seed_panel(app)
        panel.seeds.value, panel.steps.value = 2, 100_000
        panel.run()
        panel.stop()
        assert panel.wait(60)
        panel.tick()
        assert panel.spread is not None and panel.spread.steps[-1] < 100_000
        app.controller.settings.model = "transformer"
        panel.run()
        assert "Not started" in panel.status.object and "MLP" in panel.status.object
