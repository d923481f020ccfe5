"""Every preset of every study trains a few steps and saves, from the CLI and from its app (most
presets are named for people, "8 gaussians", and their runs once could not be saved).
Run: pytest tests/test_every_preset_saves.py"""
import pytest

from sandbox.cli import main
from sandbox.runtime import RunnerState
from sandbox.runtime.store import list_runs, load_run, run_dir
from sandbox.studies import STUDIES
from tests.apps.conftest import opened_app
from tests.conftest import wait_until

APP_OF_STUDY = {"grokking": "grokking", "clustering": "clustering_heads", "flow": "flow_matching",
                "hopfield": "hopfield", "associative_memory": "associative_memory"}
# The CLI trains each preset at the preset's own size except where that takes seconds a step on
# this CPU; only sizes are made smaller, the preset (and so the run's name) is the one under test.
CLI_SMALLER = {"grokking": ["--p", "11", "--width", "16"], "clustering": ["--n-train", "64", "--n-test", "48"],
               "flow": ["--n-data", "256", "--width", "16", "--early-steps", "5"], "hopfield": [], "associative_memory": []}
PRESETS = [(study.name, preset) for study in STUDIES.values() for preset in study.PRESETS]


def test_every_study_has_an_app_here():
    assert set(APP_OF_STUDY) == set(STUDIES)


@pytest.mark.parametrize("study,preset", PRESETS)
def test_the_cli_trains_and_saves_every_preset(tmp_path, capsys, study, preset):
    code = main(["run", study, "--preset", preset, "--steps", "2", "--snapshot-every", "1", "--device", "cpu",
                 "--out", str(tmp_path), *CLI_SMALLER[study]])
    assert code == 0, capsys.readouterr().err
    [name] = list_runs(tmp_path, study)
    record = load_run(run_dir(tmp_path, study, name), expect_study=study)
    assert record.preset == preset and record.rows[-1]["step"] == 2


@pytest.mark.parametrize("study,preset", PRESETS)
def test_the_app_trains_and_saves_every_preset(tmp_path, study, preset):
    with opened_app(APP_OF_STUDY[study], tmp_path, preset=preset) as app:
        c = app.controller
        c.runner.step_n(2)
        wait_until(lambda: c.runner.step == 2 and c.runner.state == RunnerState.PAUSED, timeout=60, what="2 steps")
        c.save()
        wait_until(lambda: c.runner.message.startswith(("Saved", "Could not save")), timeout=60, what="the save")
        assert c.runner.message.startswith("Saved"), c.runner.message
    [name] = list_runs(tmp_path, study)
    assert load_run(run_dir(tmp_path, study, name)).preset == preset
