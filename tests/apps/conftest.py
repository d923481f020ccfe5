"""Build an app from apps/<name>.py without a server, with tiny study settings."""
import importlib.util
from contextlib import contextmanager
from pathlib import Path

import pytest

from sandbox.studies import STUDIES

APPS = Path(__file__).resolve().parents[2] / "apps"

# Each study's own app with the study's tiny settings (a step and a snapshot take milliseconds).
TINY = {study.APPS[0]: study.TINY for study in STUDIES.values()}


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
