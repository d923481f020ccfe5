"""The scatter view without a browser: points and the optional reference line.
Run: pytest tests/views/test_scatter.py"""
import numpy as np

from sandbox.runtime.snapshot import Snapshot
from sandbox.views.scatter import Scatter


def snap(**scalars):
    arrays = {"nfe": np.array([1.0, 2.0, 4.0]), "stranded": np.array([0.9, 0.3, 0.1])}
    return Snapshot(run_id=1, step=10, scalars=scalars, arrays=arrays)


def test_the_reference_line_follows_its_scalar_and_is_hidden_when_a_snapshot_lacks_it():
    view = Scatter("nfe", "stranded", "Stranded vs NFE", line=True, log_x=True, log_y=True,
                   reference_key="converged.stranded")
    assert view.required_keys() == {"nfe", "stranded"}                 # the reference is optional
    view.update(snap(**{"converged.stranded": 0.05}))
    np.testing.assert_array_equal(view.source.data["y"], [0.9, 0.3, 0.1])
    assert view.reference.location == 0.05 and view.reference in view.figure.center
    view.update(snap())                                                 # e.g. the reference turned off
    assert view.reference.location is None and len(view.source.data["x"]) == 3
    view.update(snap(**{"converged.stranded": 0.05}))
    view.reset()
    assert view.reference.location is None
