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


def test_links_with_drawn_blobs_round_trip():
    """A link wrote Python's repr of the blobs' list, which it could not read back."""
    from sandbox.studies.flow import FlowStudy

    changed = {"source": "drawn", "blobs": [[0.5, -1.0, 0.3], [1.0, 2.0, 0.5]]}
    settings = FlowStudy.Config(**{**FlowStudy.preset_values("8 gaussians"), **changed})
    query = query_for(FlowStudy, "8 gaussians", settings)
    assert query["blobs"] == "[[0.5,-1.0,0.3],[1.0,2.0,0.5]]"
    assert parse_query(FlowStudy, q(**query)) == ("8 gaussians", changed)


def test_every_setting_of_every_study_round_trips_through_a_link():
    from sandbox.studies import STUDIES

    for study in STUDIES.values():
        for preset in study.PRESETS:
            settings = study.Config(**study.preset_values(preset))
            base = study.Config(**study.preset_values(study.DEFAULT_PRESET))
            query = query_for(study, study.DEFAULT_PRESET, settings)
            _, values = parse_query(study, q(**query))
            clicked = set(study.SELECTION)       # chosen by clicking a view: not in a link, by design
            expected = {k: v for k, v in settings.values().items() if k not in clicked}
            assert {k: v for k, v in {**base.values(), **values}.items() if k not in clicked} == expected, preset
