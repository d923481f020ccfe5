"""The headless CLI writes a run the app can load. Run: pytest tests/test_cli.py"""
import subprocess
import sys

import pytest

from sandbox.cli import main
from sandbox.runtime.store import load_run


def test_run_writes_a_loadable_run_directory(tmp_path, capsys):
    code = main(["run", "grokking", "--preset", "fast", "--steps", "12", "--out", str(tmp_path), "--name", "t",
                 "--p", "11", "--width", "8", "--snapshot-every", "5", "--device", "cpu"])
    assert code == 0
    run = tmp_path / "grokking" / "t"
    assert {p.name for p in run.iterdir()} == {"config.json", "metrics.csv", "snapshots", "state.pt"}
    record = load_run(run, expect_study="grokking")
    assert record.params["p"] == 11 and record.params["width"] == 8
    assert [int(r["step"]) for r in record.rows] == [0, 1, 2, 4, 5, 10, 12]
    assert record.snapshots[-1].step == 12 and "fourier.energy" in record.snapshots[-1].arrays
    assert set(record.state) == {"model", "optimizer"}
    assert "saved" in capsys.readouterr().out


def test_bad_values_give_a_message_not_a_traceback(tmp_path, capsys):
    assert main(["run", "grokking", "--steps", "5", "--out", str(tmp_path), "--p", "12"]) == 2
    assert "not prime" in capsys.readouterr().err
    assert main(["run", "grokking", "--steps", "0", "--out", str(tmp_path)]) == 2


def test_module_entry_point_lists_studies():
    out = subprocess.run([sys.executable, "-m", "sandbox", "list"], capture_output=True, text=True, check=True).stdout
    assert "grokking" in out and "nanda2023" in out


def test_a_sweep_with_a_bad_grid_says_why(tmp_path, capsys):
    assert main(["sweep", "grokking", "--grid", "depth=1,2", "--out", str(tmp_path)]) == 2
    assert "'depth' is not a setting of grokking" in capsys.readouterr().err


def test_a_sweep_from_the_command_line_runs_on_a_local_cluster_and_is_saved(tmp_path):
    out = subprocess.run([sys.executable, "-m", "sandbox", "sweep", "hopfield", "--grid", "load=0.05,0.6", "noise=0.1",
                          "--workers", "2", "--out", str(tmp_path), "--name", "s"],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "[  2/2]" in out.stdout and "Done: 2 points." in out.stdout
    assert (tmp_path / "sweeps" / "s" / "sweep.json").is_file()


def _trained_nothing(monkeypatch):
    """Make training fail loudly: a bad flag must be refused before a single step runs."""
    from sandbox.runtime.runner import Runner

    def refuse(*args, **kwargs):
        raise AssertionError("trained before the flags were checked")
    monkeypatch.setattr(Runner, "run_headless", refuse)


@pytest.mark.parametrize("flags,says", [
    (["--name", "../x"], "run name '../x' may only hold"),
    (["--name", "a b"], "run name 'a b' may only hold"),
    (["--snapshot-every", "0"], "--snapshot-every must be at least 1"),
    (["--keep", "3"], "--keep must be at least 4"),
    (["--steps", "0"], "--steps must be at least 1"),
])
def test_bad_run_flags_are_refused_before_training(tmp_path, capsys, monkeypatch, flags, says):
    _trained_nothing(monkeypatch)
    assert main(["run", "grokking", "--out", str(tmp_path), *flags]) == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()


def test_an_out_that_is_a_file_is_refused_before_training(tmp_path, capsys, monkeypatch):
    _trained_nothing(monkeypatch)
    (tmp_path / "file").write_text("")
    assert main(["run", "grokking", "--out", str(tmp_path / "file")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_list_settings_take_json_lists(tmp_path, capsys):
    assert main(["run", "flow", "--steps", "1", "--out", str(tmp_path), "--name", "f", "--n-data", "256",
                 "--width", "16", "--source", "drawn", "--blobs", "[[0.5, -1, 0.3]]", "--device", "cpu"]) == 0
    assert load_run(tmp_path / "flow" / "f").params["blobs"] == [[0.5, -1, 0.3]]
    assert main(["run", "hopfield", "--steps", "1", "--out", str(tmp_path), "--name", "h", "--drawn", "1,5,7",
                 "--device", "cpu"]) == 0
    assert load_run(tmp_path / "hopfield" / "h").params["drawn"] == [1, 5, 7]
    with pytest.raises(SystemExit) as refused:          # argparse's own usage error, not a traceback
        main(["run", "flow", "--steps", "1", "--out", str(tmp_path), "--blobs", "[[0, 0]"])
    assert refused.value.code == 2 and "argument --blobs: '[[0, 0]' is not a JSON list" in capsys.readouterr().err


@pytest.mark.parametrize("flags,says", [
    (["--name", "../x"], "sweep name '../x' may only hold"),
    (["--workers", "-1"], "workers"),
])
def test_bad_sweep_flags_give_a_message_not_a_traceback(tmp_path, capsys, flags, says):
    assert main(["sweep", "hopfield", "--grid", "load=0.05", "--out", str(tmp_path), *flags]) == 2
    assert says in capsys.readouterr().err


def test_a_percent_sign_in_a_settings_doc_does_not_break_help(monkeypatch, capsys):
    """argparse formats help text with %: a doc saying "6% of directions" made `run flow --help` crash."""
    from sandbox.studies.flow import FlowConfig
    monkeypatch.setattr(FlowConfig.param["pruned"], "doc", "drop 6% of the directions")
    with pytest.raises(SystemExit) as done:
        main(["run", "flow", "--help"])
    assert done.value.code == 0 and "drop 6% of the directions" in capsys.readouterr().out.replace("\n", " ")
