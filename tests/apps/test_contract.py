"""Every key an app's views read is in its study's snapshot, so names cannot drift apart.
Run: pytest tests/apps/test_contract.py"""
import pytest

from tests.apps.conftest import TINY, build_app


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_key_the_views_read_is_in_the_snapshot(name, tmp_path):
    app = build_app(name, tmp_path)
    try:
        study = app.controller.study
        study.build()
        scalars, arrays = study.snapshot()
        required = set().union(*(view.required_keys() for view in app.controller.views))
        assert required and required <= set(scalars) | set(arrays)
    finally:
        app.controller.close()
