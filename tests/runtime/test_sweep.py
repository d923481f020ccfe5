"""Sweeps: the grid is read and checked before anything runs; points run on a Dask LocalCluster,
fill the phase diagram as they finish, are saved as they come, and cancel stops the rest.
Run: pytest tests/runtime/test_sweep.py"""
import math
import socket

import numpy as np
import pytest

from sandbox.runtime import sweep as sweep_module
from sandbox.runtime.store import RunStoreError
from sandbox.runtime.sweep import MAX_POINTS, Sweep, SweepSpec, load_sweep, make_spec, parse_axis
from sandbox.studies import get_study
from sandbox.studies.grokking import GrokkingStudy
from sandbox.studies.hopfield import HopfieldStudy

SMALL_GROKKING = {"p": 31, "width": 128}


def test_an_axis_is_a_list_or_an_even_range():
    assert parse_axis("weight_decay=0,0.5,1") == ("weight_decay", [0, 0.5, 1])
    assert parse_axis("train-fraction=0.2:0.6:3") == ("train_fraction", pytest.approx([0.2, 0.4, 0.6]))
    assert parse_axis("network=classical,dense") == ("network", ["classical", "dense"])
    for bad in ("weight_decay", "weight_decay=", "x=0:1", "x=0:1:0", "x=a:b:2"):
        with pytest.raises(ValueError):
            parse_axis(bad)


def test_a_range_of_whole_numbers_with_a_whole_spacing_gives_whole_numbers():
    # Integer settings (seed, p, width) are refused by their study's validation as floats.
    name, seeds = parse_axis("seed=1:5:3")
    assert (name, seeds) == ("seed", [1, 3, 5]) and all(type(s) is int for s in seeds)
    assert parse_axis("seed=4:4:1") == ("seed", [4])
    assert parse_axis("x=0:10:4")[1] == pytest.approx([0, 10 / 3, 20 / 3, 10])    # 10/3 is not whole
    assert all(type(v) is float for v in parse_axis("x=0.0:2.0:3")[1])             # written as floats
    assert [v["seed"] for _, v in make_spec(GrokkingStudy, ["seed=1:5:3"]).points()] == [1, 3, 5]


def test_an_axis_given_twice_is_refused_not_merged():
    with pytest.raises(ValueError, match="'lr' is given twice"):
        make_spec(GrokkingStudy, ["lr=0.001,0.002", "lr=0.003"])


def test_a_huge_range_is_refused_before_any_value_is_made(monkeypatch):
    """`a=0:1:100000000` once ran np.linspace(0, 1, 10**8) on the server's event loop."""
    made = []
    linspace = np.linspace

    def counted(start, stop, num=50, *args, **kwargs):
        made.append(num)
        assert num <= MAX_POINTS, f"np.linspace was asked for {num} values"
        return linspace(start, stop, num, *args, **kwargs)

    monkeypatch.setattr(np, "linspace", counted)
    with pytest.raises(ValueError, match=f"100000000 values; a sweep has at most {MAX_POINTS} points"):
        make_spec(GrokkingStudy, ["lr=0:1:100000000", "weight_decay=0:1:100000000"])
    with pytest.raises(ValueError, match="100000000 values"):
        parse_axis("seed=0:99999999:100000000")          # the whole-number path makes no list either
    assert all(n <= MAX_POINTS for n in made)


def test_a_huge_list_is_refused_after_reading_at_most_one_value_past_the_limit(monkeypatch):
    read = []
    number = sweep_module._number
    monkeypatch.setattr(sweep_module, "_number", lambda text: read.append(text) or number(text))
    with pytest.raises(ValueError, match=f"more than {MAX_POINTS} values"):
        parse_axis("seed=" + ",".join(["1"] * 1_000_000))
    assert len(read) <= MAX_POINTS + 1


def test_a_grid_of_too_many_points_is_refused_before_any_point_is_made(monkeypatch):
    """Two axes of 300 values: 90 000 points were built (twice) before being counted."""
    def no_points(self):
        raise AssertionError(f"{len(self.axes)} axes' points were built for a grid that is refused")

    monkeypatch.setattr(SweepSpec, "points", no_points)
    with pytest.raises(ValueError, match=f"90000 points is more than {MAX_POINTS}"):
        make_spec(GrokkingStudy, ["lr=0.001:0.01:300", "weight_decay=0:1:300"])


@pytest.mark.parametrize("workers", [0, -1])
def test_a_sweep_of_fewer_than_one_worker_is_refused_when_made(workers):
    """`--workers -1` made a LocalCluster with no worker, and the sweep waited for ever."""
    with pytest.raises(ValueError, match="number of workers must be at least 1"):
        Sweep(make_spec(HopfieldStudy, ["load=0.1"]), n_workers=workers)


def test_a_sweep_name_that_climbs_out_of_the_store_is_refused_with_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="sweep name '../x' may only hold"):
        Sweep(make_spec(HopfieldStudy, ["load=0.1"]), runs_root=tmp_path, name="../x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("study, grid, message", [
    ("grokking", ["weight_decay=0,1", "train_fraction=0.3,1.5"], "train_fraction"),
    ("grokking", ["p=12,13"], "not prime"),
    ("grokking", ["depth=1,2"], "not a setting of grokking"),
    ("grokking", ["lr=0.1", "p=13", "width=8"], "one or two axes"),
    ("grokking", ["lr=0:1:21", "weight_decay=0:1:21"], "more than 400"),
    ("hopfield", ["load=0.1,9", "noise=0.1"], "load must lie in"),
    ("flow", ["lr=0.1"], "no sweep is defined"),
])
def test_a_bad_grid_is_refused_with_the_reason_before_any_task_runs(study, grid, message):
    with pytest.raises(ValueError, match=message):
        make_spec(get_study(study), grid)


@pytest.mark.slow
def test_a_2x2_grokking_sweep_on_a_local_cluster_fills_the_phase_diagram(tmp_path):
    spec = make_spec(GrokkingStudy, ["weight_decay=0.5,1", "train_fraction=0.3,0.5"], steps=1500, fixed=SMALL_GROKKING)
    seen = []
    sweep = Sweep(spec, n_workers=2, runs_root=tmp_path, name="phase", on_result=lambda i, r: seen.append(i)).start()
    assert sweep.wait(240) and sweep.state == "done", sweep.message
    assert sorted(seen) == [(0, 0), (0, 1), (1, 0), (1, 1)] and sweep.errors == []
    # Rows: train fraction 0.3, 0.5; columns: weight decay 0.5, 1. More data and more decay grok sooner;
    # with 30% of p = 31 neither groks within 1500 steps (a blank cell, still a measured point).
    grid = sweep.outcome
    assert np.isnan(grid[0]).all() and np.isfinite(grid[1]).all() and grid[1, 1] < grid[1, 0]
    assert all(sweep.results[i]["acc.train"] == 1.0 for i in seen)
    saved = load_sweep(tmp_path / "sweeps" / "phase")
    np.testing.assert_array_equal(saved["outcome_grid"], grid)
    assert saved["state"] == "done" and len(saved["points"]) == 4


@pytest.mark.slow
def test_cancel_stops_the_points_not_yet_measured(tmp_path):
    spec = make_spec(GrokkingStudy, ["weight_decay=0,0.1,0.2,0.3", "train_fraction=0.3,0.4"], steps=20_000,
                     fixed=SMALL_GROKKING)        # no weight decay: these never grok, each runs all its steps
    sweep = Sweep(spec, n_workers=1, runs_root=tmp_path, name="cancelled").start()
    assert sweep.wait(3) is False and sweep.state == "running"
    with socket.socket() as probe:          # the cluster opened no dashboard on Dask's usual port
        assert probe.connect_ex(("127.0.0.1", 8787)) != 0
    sweep.cancel()
    assert sweep.wait(60), "the sweep did not end after cancel"
    assert sweep.state == "cancelled" and sweep.finished < sweep.total == 8
    assert "Cancelled" in sweep.message
    saved = load_sweep(tmp_path / "sweeps" / "cancelled")
    assert saved["state"] == "cancelled" and len(saved["points"]) == sweep.finished


def test_a_file_that_is_not_a_sweep_is_refused_with_a_message(tmp_path):
    (tmp_path / "sweep.json").write_text('{"format": "something else"}')
    with pytest.raises(RunStoreError, match="not written by a sandbox sweep"):
        load_sweep(tmp_path)
    with pytest.raises(RunStoreError, match="not a readable sweep"):
        load_sweep(tmp_path / "missing")


def test_hopfield_points_measure_success_over_load_and_noise():
    from sandbox.studies.sweep_points import hopfield_point
    easy = hopfield_point("classical, 10 patterns", {"load": 0.05, "noise": 0.05}, 0)["success"]
    hard = hopfield_point("classical, 10 patterns", {"load": 0.5, "noise": 0.3}, 0)["success"]
    assert easy >= 0.9 and hard <= 0.2 and not math.isnan(easy)


@pytest.mark.slow
def test_a_sweep_runs_on_a_scheduler_given_by_address(tmp_path):
    """`--scheduler tcp://host:port`: here the scheduler of a cluster started beside the sweep."""
    from dask.distributed import LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        spec = make_spec(HopfieldStudy, ["load=0.05,0.6"])
        sweep = Sweep(spec, scheduler=cluster.scheduler_address).start()
        assert cluster.scheduler_address.startswith("tcp://")
        assert sweep.wait(120) and sweep.state == "done", sweep.message
        assert sweep.outcome[0, 0] > sweep.outcome[0, 1] and len(cluster.scheduler_info["workers"]) == 1


def test_fixed_values_the_axes_vary_are_left_out_of_the_record():
    spec = make_spec(GrokkingStudy, ["weight_decay=0,1"], fixed={"weight_decay": 0.5, "p": 31})
    assert spec.fixed == {"p": 31} and [v["weight_decay"] for _, v in spec.points()] == [0, 1]
