"""Wrong input, from the sidebar or a link: a clear message, and the run on screen is kept.
Run: pytest tests/apps/test_bad_input.py"""
import pytest

from sandbox.runtime import RunnerState
from sandbox.studies.base import STUDIES
from sandbox.ui.url import parse_query
from tests.apps.conftest import opened_app
from tests.conftest import wait_until

# (study, values, app, words the message must hold). Out-of-bounds values are refused by the
# Config's param bounds, combinations by its check(); the widgets, links and runs share both.
BAD = [
    ("grokking", {"p": 1}, "grokking", "p"),                                 # p < 2
    ("grokking", {"p": 100}, "grokking", "not prime"),
    ("clustering", {"p": 1}, "clustering_heads", "p"),
    ("clustering", {"k": 9, "T": 5}, "clustering_heads", "cannot exceed the sequence length"),   # |S| > T
    ("grokking", {"train_fraction": 0.0}, "grokking", "train_fraction"),     # outside (0, 1)
    ("grokking", {"train_fraction": 1.0}, "grokking", "train_fraction"),
    ("flow", {"nfe": 0}, "flow_matching", "nfe"),                            # NFE < 1
    ("hopfield", {"beta": 0.0}, "hopfield", "beta"),                         # β ≤ 0
    ("hopfield", {"beta": -1.0}, "hopfield", "beta"),
]
IDS = [f"{s}-{'-'.join(f'{k}={v}' for k, v in values.items())}" for s, values, _, _ in BAD]


@pytest.mark.parametrize("study, values, app, words", BAD, ids=IDS)
def test_the_study_refuses_it_with_a_message(study, values, app, words):
    cls = STUDIES[study]
    with pytest.raises(ValueError, match=words):
        cls.validated({**cls.preset_values(cls.DEFAULT_PRESET), **values})


@pytest.mark.parametrize("study, values, app, words", BAD, ids=IDS)
def test_a_link_with_it_is_refused_with_the_same_message(study, values, app, words):
    with pytest.raises(ValueError, match=words):
        parse_query(STUDIES[study], {k: [str(v).encode()] for k, v in values.items()})


@pytest.mark.parametrize("study, values, app, words", BAD, ids=IDS)
def test_the_sidebar_refuses_it_and_the_run_goes_on(study, values, app, words, tmp_path):
    with opened_app(app, tmp_path) as built:
        c = built.controller
        c.runner.step_n(3)
        wait_until(lambda: c.runner.step == 3 and c.runner.state == RunnerState.PAUSED, timeout=30)
        run_id, before = c.runner.run_id, dict(c.study.config.values())
        try:   # what a widget does with a typed value: out of bounds, param itself refuses it
            c.settings.param.update(**values)
        except ValueError as exc:
            assert any(name in str(exc) for name in values)
            assert all(getattr(c.settings, k) == before[k] for k in values)     # the sidebar kept its value
        else:  # a combination each of whose values is allowed: refused when applied
            c.reset()
            assert c.message.startswith("Not applied") and words in c.message
        c.tick()
        assert c.runner.run_id == run_id and c.runner.step == 3          # the run on screen is kept
        assert c.study.config.values() == before
