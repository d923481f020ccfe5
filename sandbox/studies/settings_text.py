"""A setting's value as text and back: the one reading that CLI flags and URL links share.

Lists (drawn blobs, flipped units) are JSON (`[[0.5, -1, 0.3]]`); a list of whole numbers may also be
written `1,5,7`. Writing then reading a value gives it back, so a link reproduces a configuration.
"""
from __future__ import annotations

import json

import param


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not true or false")


def _integer(text: str) -> int:
    return int(text.strip())


def _number(text: str) -> float:
    return float(text.strip())


def _list(text: str, item_type=None) -> list:
    text = text.strip()
    if item_type is int and text and not text.startswith("["):
        return [int(v) for v in text.split(",") if v.strip()]
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ValueError(f"{text!r} is not a JSON list ({exc.msg})") from None
    if not isinstance(value, list):
        raise ValueError(f"{text!r} is not a list")
    return value


def parse_setting(parameter: param.Parameter, text: str):
    """The value `text` stands for as `parameter`'s type; ValueError says why it cannot be read.
    Bounds and cross-field checks are the Config's, applied afterwards."""
    if isinstance(parameter, param.Boolean):
        return _boolean(text)
    if isinstance(parameter, param.Integer):
        return _integer(text)
    if isinstance(parameter, param.Number):
        return _number(text)
    if isinstance(parameter, param.List):
        return _list(text, parameter.item_type)
    return text


def setting_text(value) -> str:
    """The text `parse_setting` reads back as `value`."""
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value), separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
