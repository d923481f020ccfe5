"""What a browser (or a file someone hands you) can reach: nothing outside the run directory, no
unpickling, a server that listens on localhost unless told otherwise. Run: pytest tests/test_security.py"""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from sandbox.runtime.store import RunRecord, RunStoreError, list_runs, load_run, run_dir, save_run
from tests.apps.conftest import opened_app
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[1]


class Exploit:
    """Unpickling this would run a command (it writes a file)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "pwned"))


def a_run(tmp_path) -> Path:
    return save_run(tmp_path, RunRecord(study="grokking", preset="fast", params={}, rows=[{"step": 0.0}],
                                        snapshots=[], state={"w": torch.zeros(2)}), name="r1")


@pytest.mark.parametrize("name", ["../../etc", "/etc/passwd", "a/b", "..", ".", "", "run\x00", "r\\..\\x"])
def test_no_run_name_reaches_outside_the_run_directory(tmp_path, name):
    with pytest.raises(RunStoreError):
        run_dir(tmp_path, "grokking", name)
    with pytest.raises(RunStoreError):
        list_runs(tmp_path, name or "..")


def test_a_name_sent_by_the_browser_is_refused_with_a_message(tmp_path):
    with opened_app("grokking", tmp_path / "runs") as app:
        c = app.controller
        c.load("../../../etc")               # a forged Select value: the widget only offers saved runs
        assert c.message.startswith("Could not load") and "may only hold" in c.message
        c.runner.save(tmp_path / "runs", name="../outside")
        wait_until(lambda: "Could not save" in c.runner.message)
    assert not (tmp_path / "outside").exists()


def test_a_pickle_in_a_run_is_never_executed(tmp_path):
    path, marker = a_run(tmp_path), tmp_path / "marker"
    torch.save({"w": Exploit(marker)}, path / "state.pt")
    with pytest.raises(RunStoreError, match="state.pt"):
        load_run(path)
    np.save(path / "x.npy", np.array([Exploit(marker)], dtype=object), allow_pickle=True)
    os.replace(path / "x.npy", path / "snapshots" / "step_000000001.npz")   # not even a zip
    with pytest.raises(RunStoreError, match="npz"):
        load_run(path)
    np.savez(path / "snapshots" / "step_000000001.npz", w=np.array([Exploit(marker)], dtype=object))
    with pytest.raises(RunStoreError, match="npz"):
        load_run(path)
    assert not marker.exists()


def test_make_serve_listens_on_localhost_and_the_readme_says_how_to_open_it_up():
    commands = subprocess.run(["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    serve = commands[commands.index("panel serve"):].replace("\\\n", " ")
    assert "--address 127.0.0.1" in serve and "0.0.0.0" not in serve
    assert "--allow-websocket-origin=127.0.0.1:5006" in serve
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Serving to others"):]
    assert "--allow-websocket-origin" in section and "--address 0.0.0.0" in section
    assert "--basic-auth" in section and "docs/serving.md" in section
    recipe = (ROOT / "docs" / "serving.md").read_text()
    assert all(option in recipe for option in ("--basic-auth", "--cookie-secret", "--oauth-provider", "--admin",
                                                "SANDBOX_DASK_SCHEDULER", "SANDBOX_ALLOWED_HOSTS", "serve_setup.py"))
