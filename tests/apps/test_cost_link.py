"""A link whose settings are over the server's budget is refused on the page, with a message, and
builds nothing of them: the server's memory does not grow. Run: pytest tests/apps/test_cost_link.py"""
import resource

import panel as pn
import pytest

from tests.apps.conftest import build_app
from tests.apps.test_page_filling import served_session
from tests.conftest import wait_until

# Measured before the budget: one GET of this link grew the server by 2.6 GB in one run, 8.7 in another.
HUGE = {"n_tokens": 100_000, "n_classes": 1000, "batch_size": 65_536}


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6     # kB on Linux


@pytest.mark.parametrize("query", [HUGE, {"preset": "SGD", **HUGE}], ids=["values", "preset+values"])
def test_a_link_over_the_memory_budget_is_refused_on_the_page_and_nothing_grows(tmp_path, query):
    before = peak_rss_gb()
    with served_session(query) as doc:
        app = build_app("associative_memory", tmp_path)
        app.servable()
        c = app.controller
        try:
            pn.state._on_load(doc)          # the page's session is live: the link is read now
            wait_until(lambda: c.runner.mailbox.peek() is not None, timeout=30, what="the first snapshot")
            assert c.message.startswith("Ignored the link's settings") and "GB" in c.message
            assert "n_tokens" in c.message and c.alert.visible
            assert c.study.config.n_tokens == 20 and c.settings.n_tokens == 20    # the page's own settings
        finally:
            c.close()
    assert peak_rss_gb() - before < 0.3
