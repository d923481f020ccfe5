"""URL query ↔ settings, without a server. Run: pytest tests/ui/test_url.py"""
import pytest

from sandbox.studies.grokking import GrokkingStudy
from sandbox.ui.url import parse_query, query_for


def q(**kw):
    return {k: [str(v).encode()] for k, v in kw.items()}


def test_a_link_sets_preset_and_values_with_their_types():
    preset, values = parse_query(GrokkingStudy, q(preset="no_weight_decay", p=101, lr="0.01", foo="bar"))
    assert preset == "no_weight_decay" and values == {"p": 101, "lr": 0.01}


@pytest.mark.parametrize("args, message", [
    (dict(p=100), "not prime"), (dict(p="ten"), "valid int"), (dict(train_fraction=2.0), "train_fraction"),
    (dict(preset="nope"), "unknown preset"), (dict(model="rnn"), "model")])
def test_bad_links_are_refused_with_a_message(args, message):
    with pytest.raises(ValueError, match=message):
        parse_query(GrokkingStudy, q(**args))


def test_query_for_round_trips_through_parse_query():
    study = GrokkingStudy(preset="fast")
    settings = GrokkingStudy.Config(**{**study.config.values(), "weight_decay": 0.5, "seed": 3})
    query = query_for(GrokkingStudy, "fast", settings)
    assert query == {"preset": "fast", "weight_decay": "0.5", "seed": "3"}
    assert parse_query(GrokkingStudy, q(**query)) == ("fast", {"weight_decay": 0.5, "seed": 3})
