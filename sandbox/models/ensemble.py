"""Many copies of one architecture trained at once (torch.func): their parameters stacked along a
new first axis, the forward pass vmapped over it.

Optimisers that act elementwise (SGD, Adam, AdamW) update a stacked parameter exactly as they
would update each copy on its own, so with a loss that is the *sum* of the copies' losses one
optimiser step on the ensemble is one step of every copy: S seeds for the price of one batched
pass instead of S small ones.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap


def _key(name: str) -> str:
    return name.replace(".", "__")      # ParameterDict keys may not hold dots


class Ensemble(nn.Module):
    """`models`: copies of one architecture (e.g. one per seed). Outputs gain a leading axis of
    size len(models): `ensemble(*inputs)[i]` is `models[i](*inputs)` (same inputs for all)."""

    def __init__(self, models: list[nn.Module]):
        super().__init__()
        if not models:
            raise ValueError("an ensemble needs at least one model")
        params, buffers = stack_module_state(models)
        self.names = list(params)
        self.stacked = nn.ParameterDict({_key(n): nn.Parameter(p.detach().clone()) for n, p in params.items()})
        for name, b in buffers.items():
            self.register_buffer(f"stacked__{_key(name)}", b.clone())
        self.buffer_names = list(buffers)
        # The structure alone: functional_call takes the weights from the stacks.
        self.base = [copy.deepcopy(models[0]).to("meta")]    # a list keeps it out of the parameters
        self.size = len(models)

    def _stacked_params(self) -> dict[str, torch.Tensor]:
        return {n: self.stacked[_key(n)] for n in self.names}

    def _stacked_buffers(self) -> dict[str, torch.Tensor]:
        return {n: getattr(self, f"stacked__{_key(n)}") for n in self.buffer_names}

    def forward(self, *inputs):
        base = self.base[0]

        def one(params, buffers):
            return functional_call(base, {**params, **buffers}, inputs)
        return vmap(one)(self._stacked_params(), self._stacked_buffers())

    def member(self, i: int) -> dict[str, torch.Tensor]:
        """Copy i's parameters and buffers, as its own module's state dict would hold them."""
        return {**{n: p[i].detach() for n, p in self._stacked_params().items()},
                **{n: b[i] for n, b in self._stacked_buffers().items()}}
