"""One list of studies: the registry. Every registered study has its app page, a card in the gallery,
a screenshot, tiny settings the contract tests use, and (trained ones) a row in the speed benchmark,
so that a new study cannot be silently left out of any of them."""
import importlib.util
from pathlib import Path

import pytest

from sandbox.studies import STUDIES
from sandbox.studies.base import TorchStudy

ROOT = Path(__file__).resolve().parents[1]


def module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem + "_listed", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_every_study_has_its_pages_its_card_its_screenshot_and_tiny_settings(name):
    study = STUDIES[name]
    assert study.APPS, f"{name} names no app page (Study.APPS)"
    gallery = [card[0] for card in module(ROOT / "apps" / "index.py").STUDIES]
    shots = module(ROOT / "scripts" / "screenshots.py").SHOTS
    for app in study.APPS:
        assert (ROOT / "apps" / f"{app}.py").exists(), app
        assert app in gallery, f"{app} has no card in the gallery (apps/index.py)"
        assert app in shots, f"{app} has no screenshot (scripts/screenshots.py)"
    assert study.TINY, f"{name} declares no tiny settings (Study.TINY)"
    study.validated({**study.preset_values(study.DEFAULT_PRESET), **study.TINY})


def test_every_trained_study_is_in_the_speed_benchmark():
    from benchmarks.study_speed import SPECS
    trained = {name for name, study in STUDIES.items() if issubclass(study, TorchStudy)}
    assert trained <= {spec.study for spec in SPECS}
