"""Settings ↔ URL query: a link reproduces a configuration; bad values are refused with a message."""
from __future__ import annotations

from ..studies.settings_text import parse_setting, setting_text


def parse_query(study_cls, args: dict[str, list[bytes]]) -> tuple[str | None, dict]:
    """(preset, values) from `pn.state.session_args`; raises ValueError naming the bad entry.

    Unknown keys are ignored (other tools add their own). The values are checked by the
    study's Config bounds and its cross-field check, exactly as the widgets are.
    """
    config = study_cls.Config
    preset, values = None, {}
    for key, raw in args.items():
        text = (raw[-1].decode("utf-8", "replace") if raw else "").strip()
        if key == "preset":
            if text not in study_cls.PRESETS:
                raise ValueError(f"unknown preset {text!r} in the link; choose one of {', '.join(study_cls.PRESETS)}")
            preset = text
            continue
        if key == "name" or key not in config.param:
            continue
        parameter = config.param[key]
        try:
            values[key] = parse_setting(parameter, text)
        except ValueError:
            raise ValueError(f"{key}={text!r} in the link is not a valid {type(parameter).__name__.lower()}") from None
    study_cls.validated({**study_cls.preset_values(preset or study_cls.DEFAULT_PRESET), **values})
    return preset, values


def query_for(study_cls, preset: str, settings) -> dict[str, str]:
    """The query that reproduces `settings`: the preset plus every value that differs from it
    (selections made by clicking a view are not configuration and stay out of the link)."""
    base = study_cls.Config(**study_cls.preset_values(preset))
    changed = {k: v for k, v in settings.param.values().items()
               if k != "name" and k not in study_cls.SELECTION and v != getattr(base, k)}
    return {"preset": preset, **{k: setting_text(v) for k, v in changed.items()}}
