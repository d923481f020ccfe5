"""Every model a landscape slices says which axes index each weight's output units (Li et al.'s
filters), and a random filter-normalised direction gives each output unit of each weight the norm
of that unit of the weights. Run: pytest tests/models/test_output_axes.py"""
import pytest
import torch

from sandbox.analysis.landscape import LandscapeProbe, filter_normalized_direction, output_axes, parameters_of
from sandbox.models.clustering import ClusteringTransformer
from sandbox.studies import STUDIES, get_study
from sandbox.studies.base import TorchStudy
from tests.apps.conftest import TINY

# Read off each forward pass, independently of the models' declarations: the axes that index one
# output unit of a weight, by the parameter's first name. `x @ W` stores W (in, out), so a unit is
# a column; the einsums make W_QKV's unit (q/k/v, head, e) and W_O's / value's the coordinate
# written; an embedding lookup W_E[x] is one-hot x @ W_E. nn.Linear weights (names ending in
# `.weight`) are (out, in): a unit is a row.
UNIT_AXES = {
    "PairMLP": {"W_a": (1,), "W_b": (1,), "W_out": (1,)},                      # hidden = act(W_a[a] + W_b[b])
    "GrokTransformer": {"W_E": (1,), "W_pos": (1,), "W_QKV": (0, 1, 3), "W_O": (2,), "W_in": (1,),
                        "W_out": (1,), "W_U": (1,)},
    "ClusteringTransformer": {"W_E": (1,), "W_pos": (1,), "mix_QKV": (0, 1, 3), "query": (0,), "value": (2,),
                              "W_U": (1,)},                                     # query: one score per head
    "AssociativeMemories": {"memories": (1,)},                                  # logits = e_x @ W @ U
    "VelocityMLP": {},                                                          # nn.Linear only
}

# Every study with a landscape, at a tiny size; variants that bring parameters of their own.
SLICED = {
    "grokking mlp": ("grokking", dict(TINY["grokking"], model="mlp")),
    "grokking transformer": ("grokking", dict(TINY["grokking"], model="transformer", d_model=8, n_heads=2,
                                              d_mlp=16)),
    "clustering": ("clustering", TINY["clustering_heads"]),
    "clustering, two layers": ("clustering", dict(TINY["clustering_heads"], n_layers=2, n_heads=2)),
    "flow": ("flow", TINY["flow_matching"]),
    "associative memory": ("associative_memory", TINY["associative_memory"]),
}
# Models no study builds in a form of their own: their modules directly.
MODULES = {"clustering, untied read-out": lambda: ClusteringTransformer(p=3, T=5, n_heads=2, tie_output=False)}


def unit_axes(model: torch.nn.Module, name: str) -> tuple[int, ...]:
    if name.endswith(".weight"):
        return (0,)
    return UNIT_AXES[type(model).__name__][name.split(".")[0]]


def per_unit_norms(w: torch.Tensor, units: tuple[int, ...]) -> torch.Tensor:
    """‖w_u‖ for each output unit u: the row norms of w laid out (units, everything else)."""
    rest = [a for a in range(w.ndim) if a not in units]
    n_units = 1
    for a in units:
        n_units *= w.shape[a]
    return w.permute(*units, *rest).reshape(n_units, -1).norm(dim=1)


@pytest.fixture(scope="module", params=[*SLICED, *MODULES])
def probe(request):
    if request.param in MODULES:         # the loss is never evaluated here
        return LandscapeProbe(MODULES[request.param](), (), lambda output: output)
    name, settings = SLICED[request.param]
    study = get_study(name)(**settings)
    study.build()
    return study.landscape_probe()


def test_every_study_with_a_landscape_is_checked():
    sliced = {name for name, cls in STUDIES.items()
              if getattr(cls, "landscape_probe", TorchStudy.landscape_probe) is not TorchStudy.landscape_probe}
    assert sliced <= {name for name, _ in SLICED.values()}


def test_each_output_unit_of_a_random_direction_has_the_norm_of_that_unit_of_the_weights(probe):
    params = parameters_of(probe.model)
    # Not seed 0: grokking seeds torch with its seed (0 by default) right before drawing its weights
    # in this same order, so a direction drawn from seed 0 is those weights, rescaled, and its norms
    # agree with theirs along every axis whichever axis it normalised.
    d = filter_normalized_direction(params, torch.Generator().manual_seed(2018), probe.output_axes)
    for name, w in params.items():
        if w.ndim < 2:                    # biases: no component (Li et al.'s ignore='biasbn')
            assert torch.count_nonzero(d[name]) == 0, name
            continue
        units = unit_axes(probe.model, name)
        torch.testing.assert_close(per_unit_norms(d[name], units), per_unit_norms(w, units), rtol=1e-5, atol=0,
                                   msg=lambda m, name=name, units=units: f"{name} (units along {units}): {m}")


def test_every_declaration_names_an_attribute_of_its_model(probe):
    # A misspelt name would silently fall back to axis 0.
    for prefix, module in probe.model.named_modules():
        for attribute in getattr(module, "OUTPUT_AXES", {}):
            assert hasattr(module, attribute), f"{type(module).__name__}.OUTPUT_AXES names {attribute!r}"


def test_a_declaration_that_leaves_no_input_axis_is_refused_by_name():
    class Broken(torch.nn.Module):
        OUTPUT_AXES = {"W": (0, 1)}          # a "filter" of one number

        def __init__(self):
            super().__init__()
            self.W = torch.nn.Parameter(torch.ones(2, 3))
    with pytest.raises(ValueError, match="'W'"):
        output_axes(Broken())
