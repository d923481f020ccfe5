"""Build an app from apps/<name>.py without a server, with tiny study settings."""
import importlib.util
from contextlib import contextmanager
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"

# Small enough that a step and a snapshot take milliseconds.
TINY = {
    "grokking": dict(p=11, width=16, train_fraction=0.5, device="cpu"),
    "clustering_heads": dict(p=3, T=5, k=2, n_train=64, n_test=48, batch_size=16, ffn_dim=8, device="cpu"),
    "flow_matching": dict(n_data=256, batch_size=32, width=16, depth=1, nfe=4, device="cpu"),
    "hopfield": dict(n_units=36, n_patterns=4, capacity_units=32, frame_ms=0.0, device="cpu"),
    "associative_memory": dict(n_tokens=20, batch_size=16, device="cpu"),
}


def load_app_module(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_app", APPS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_app(name: str, runs_root, **params):
    return load_app_module(name).build_app(runs_root=str(runs_root), **{**TINY[name], **params})


@contextmanager
def opened_app(name: str, runs_root, **params):
    """An app whose controller (its training and observer threads) is closed afterwards."""
    app = build_app(name, runs_root, **params)
    try:
        yield app
    finally:
        app.controller.close()


def app_fixture(name: str):
    """A test file's `app` fixture: `app = app_fixture("grokking")`."""
    @pytest.fixture
    def app(tmp_path):
        with opened_app(name, tmp_path) as opened:
            yield opened
    return app
