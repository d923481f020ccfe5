"""What a served session loads is loaded, and frozen, when sandbox.ui is imported.

Python's full collections walk every tracked object not frozen, with every thread held; Panel runs
one after each session ends. Modules a session imports later (torch.optim pulls in torch._dynamo and
sympy, the 3-D views PyVista and matplotlib) stayed in that walk: 270,000 objects, 0.15 s per full
collection on an idle core, more under load. See sandbox/ui/__init__.py."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.ui.serving import ROOT

pytestmark = pytest.mark.slow

# Every app, built and drawn once, its study trained 3 steps and shown: what a session does.
SESSION = """
import json, sys, tempfile
import sandbox.ui
loaded = set(sys.modules)
import panel as pn
from bokeh.document import Document
from tests.apps.conftest import TINY, opened_app
from tests.conftest import wait_until
for name in TINY:
    with opened_app(name, tempfile.mkdtemp()) as app:
        pn.panel(app).get_root(Document())
        controller = app.controller
        controller.runner.step_n(3)
        wait_until(lambda: getattr(controller.runner.mailbox.peek(), "step", 0) >= 3, timeout=120)
        controller.tick()
print(json.dumps(sorted(set(sys.modules) - loaded)))
"""
TEST_MACHINERY = ("_pytest", "pytest", "pluggy", "py", "pygments", "iniconfig", "tests", "bdb", "importlib")
HEAVY = ("torch._dynamo", "sympy", "pyvista", "vtkmodules", "matplotlib", "markdown_it", "nh3", "PIL")


def test_a_session_imports_next_to_nothing_after_sandbox_ui():
    done = subprocess.run([sys.executable, "-c", SESSION], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    later = [m for m in json.loads(done.stdout.splitlines()[-1]) if m.split(".")[0] not in TEST_MACHINERY]
    assert not [m for m in later if m.startswith(HEAVY)], later
    assert len(later) <= 5, later        # measured: 3 small ones (a view module, two of torch's and Panel's)
