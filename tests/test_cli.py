"""The headless CLI writes a run the app can load. Run: pytest tests/test_cli.py"""
import subprocess
import sys

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
