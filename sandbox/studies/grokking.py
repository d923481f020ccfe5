"""Study A: grokking on modular arithmetic (Power et al. 2022; Nanda et al. 2023; Gromov 2023).

A model memorises a random fraction of the table (a, b) → a ∘ b mod p quickly, and only
much later generalises to the rest, as weight decay pushes it towards a sparse Fourier
solution: a few key frequencies k, each neuron tuned to one of them.
"""
from __future__ import annotations

import numpy as np
import param
import torch
import torch.nn.functional as F

from ..analysis import fourier, neurons, progress
from ..analysis.landscape import PROBE_SAMPLES, LandscapeProbe
from ..models.mlp import ACTIVATIONS, PairMLP
from ..models.transformer import GrokTransformer
from ..runtime.device import resolve_device
from ..runtime.graphed_step import GraphedStep
from ..runtime.sweep import Measure
from ..tasks.modular import OPERATIONS, is_prime, modular_table
from .base import StudyConfig, TorchStudy, register
from .cost import FLOAT, Cost, landscape_memory
from .sweep_points import grokking_point

TOP_KEYS = 5  # strongest embedding frequencies per seed in the seed spread (grokking_seeds)


def _mlp_neurons(model, hidden, p, energy, total):
    """The MLP's neurons read a and b through their own columns of W_a and W_b, so those columns
    describe them (and are the embedding). For a quadratic neuron the activations give the same
    frequency and wave in a + b (tests/analysis/test_neuron_activations.py), and the weights also
    keep φ_a and φ_b, which the square moves to 2k in the activations."""
    W_a, W_b = (w.float().cpu().numpy() for w in model.input_weights())    # (p, d) each
    described = neurons.from_input_weights(W_a, W_b)
    return described.energy.sum(axis=0), described


def _transformer_neurons(model, hidden, p, energy, total):
    """The transformer's MLP neurons see a and b only through attention at `=`: they are described
    by their activations over the grid, and its embedding is W_E (Nanda et al.'s Fig. 3)."""
    embedding = fourier.frequency_energy(model.token_embedding().float().cpu().numpy())
    return embedding, neurons.from_activations(hidden, p, energy, total)


# model → (embedding energy per frequency (K,), the per-neuron description the views show)
DESCRIBE_NEURONS = {"mlp": _mlp_neurons, "transformer": _transformer_neurons}


class GrokkingConfig(StudyConfig):
    model = param.Selector(default="mlp", objects=["mlp", "transformer"],
                           doc="mlp: act(W_a[a] + W_b[b]) @ W_out. transformer: Nanda's 1-layer model on `a b =`.")
    operation = param.Selector(default="add", objects=list(OPERATIONS), doc="Label of (a, b), mod p.")
    p = param.Integer(default=97, bounds=(3, 211), label="p (modulus)", doc="Modulus: a prime, so every non-zero element is invertible.")
    train_fraction = param.Number(default=0.3, bounds=(0.05, 0.95), doc="Share of the p² pairs used for training.")
    activation = param.Selector(default="quadratic", objects=list(ACTIVATIONS), doc="MLP activation.")
    width = param.Integer(default=256, bounds=(8, 2048), doc="MLP hidden neurons.")
    d_model = param.Integer(default=128, bounds=(8, 512), doc="Transformer residual width.")
    n_heads = param.Integer(default=4, bounds=(1, 16), doc="Transformer attention heads.")
    d_mlp = param.Integer(default=512, bounds=(8, 2048), doc="Transformer MLP neurons.")
    init_scale = param.Number(default=1.0, bounds=(0.01, 10.0), doc="Multiplies the initial weights.")
    lr = param.Number(default=3e-3, bounds=(1e-5, 1.0), label="Learning rate", doc="AdamW learning rate (live).")
    weight_decay = param.Number(default=1.0, bounds=(0.0, 10.0), label="Weight decay", doc="AdamW decoupled weight decay (live).")
    beta2 = param.Number(default=0.98, bounds=(0.5, 0.9999), label="AdamW β₂", doc="AdamW β₂ (Nanda uses 0.98).")
    selected_neuron = param.Integer(default=0, bounds=(0, None), doc="Neuron whose activation grid is reported.")
    cuda_graph = param.Boolean(default=True, label="CUDA graph (GPU)",
                               doc="On a GPU, replay each full-batch step as one CUDA graph (the MLP trains ~5× "
                                   "faster; the same steps). No effect on a CPU.")

    def check(self) -> None:
        super().check()
        if not is_prime(self.p):
            raise ValueError(f"p = {self.p} is not prime; try 97, 101, 103, 107, 109 or 113")
        if self.model == "transformer" and self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        neurons = self.width if self.model == "mlp" else self.d_mlp
        if self.selected_neuron >= neurons:
            raise ValueError(f"neuron {self.selected_neuron} does not exist; the model has {neurons}")

    def cost(self) -> Cost:
        """Full-batch steps (~3 copies of the training pairs' activations: forward, backward, softmax)
        and snapshots over all p² pairs (1 copy, no gradients), plus the landscape: the activations
        dominate. Per pair the MLP holds a (width,) hidden row and a (p,) logit row, the transformer 3
        positions of residual, attention and MLP activations. Measured: nanda2023 with its landscape
        peaks at 1.3 GB (1.45 estimated); 8 seeds of p = 211, width 2048, 9 GB (9.7)."""
        pairs, p = self.p ** 2, self.p
        if self.model == "mlp":
            per_pair, params, drivers = self.width + p, 3 * p * self.width, ("width", "p")
            flops = 2 * self.width * p
        else:
            d = self.d_model
            per_pair = 3 * (4 * d + 2 * self.d_mlp + p)
            params, drivers = 2 * p * d + 4 * d * d + 2 * d * self.d_mlp, ("d_mlp", "d_model", "p")
            flops = 2 * (3 * (4 * d * d + 2 * d * self.d_mlp) + d * p)
        trained = round(self.train_fraction * pairs)
        memory = (FLOAT * ((3 * trained + pairs) * per_pair + 5 * params)
                  + landscape_memory(min(PROBE_SAMPLES, trained), per_pair))
        return Cost(memory=memory, work=3 * pairs * flops,
                    memory_from=drivers, work_from=drivers)


@register
class GrokkingStudy(TorchStudy):
    name = "grokking"
    title = "Grokking on modular addition"
    Config = GrokkingConfig
    LIVE = ("lr", "weight_decay", "selected_neuron")
    SELECTION = ("selected_neuron",)
    APPS = ("grokking",)
    TINY = dict(p=11, width=16, train_fraction=0.5, device="cpu")
    HEADLINE = {"acc.train": "train acc", "acc.test": "test acc"}
    SWEEP = Measure(grokking_point, "steps_to_grok", "steps until test accuracy ≥ 0.95 (—: not within the budget)",
                    default_steps=3000)
    DEFAULT_PRESET = "fast"
    PRESETS = {
        # Width 256 and lr 5e-3 keep a step at ~20 ms on 2 CPU cores; train accuracy saturates
        # within ~100 steps and test accuracy follows several hundred steps later.
        "fast": dict(model="mlp", activation="quadratic", operation="add", p=97, train_fraction=0.3,
                     width=256, lr=5e-3, weight_decay=1.0, beta2=0.98, init_scale=1.0, seed=0),
        # Nanda et al. 2023, §3: p = 113, d_model 128, 4 heads, d_mlp 512, AdamW lr 1e-3,
        # wd 1.0, betas (0.9, 0.98), full batch, 30% of pairs. Groks after ~10k steps (GPU).
        "nanda2023": dict(model="transformer", operation="add", p=113, train_fraction=0.3,
                          d_model=128, n_heads=4, d_mlp=512, lr=1e-3, weight_decay=1.0, beta2=0.98,
                          init_scale=1.0, seed=0),
        # Our own reduction of nanda2023 to a CPU (not the paper's): p = 53 (4.5× fewer pairs), d_model
        # 64, 2 heads, d_mlp 256. Measured at seed 0 (tests/studies/test_transformer_phenomena.py): with
        # 30% of pairs (lr 3e-3) test accuracy was 0.12 after 3000 steps; with 40% and Nanda's lr 1e-3,
        # below 0.95 after 5000; with 50% and 1e-3 half the test set was right at memorisation. With
        # 45% and lr 3e-3 seeds 0–3 memorise by step 100 and pass 0.95 test accuracy at 1450–1850
        # (with 40%, two of four seeds had not by 2500). Weight decay 1.0 and β₂ 0.98 as the paper.
        "CPU-sized transformer": dict(model="transformer", operation="add", p=53, train_fraction=0.45,
                                      d_model=64, n_heads=2, d_mlp=256, lr=3e-3, weight_decay=1.0,
                                      beta2=0.98, init_scale=1.0, seed=0),
        # The control: without weight decay nothing pulls the memorising solution towards
        # the low-norm Fourier one, and test accuracy stays near chance.
        "no_weight_decay": dict(model="mlp", activation="quadratic", operation="add", p=97,
                                train_fraction=0.3, width=256, lr=5e-3, weight_decay=0.0,
                                beta2=0.98, init_scale=1.0, seed=0),
    }

    PRESET_NOTES = {
        "fast": "Memorises in ~100 steps, groks by ~650: about half a minute on a laptop CPU.",
        "nanda2023": "The paper's transformer. Best on a GPU: on one CPU core it runs ~9 steps/s, and it "
                     "groks after ~10k steps in the paper (about 20 minutes here).",
        "CPU-sized transformer": "Nanda's transformer made small enough for a CPU (p = 53, d_model 64, 2 heads): "
                                 "memorises in ~100 steps, generalises by ~1500, about a minute on one core. "
                                 "Its neurons are read from their activations, as in the paper.",
        "no_weight_decay": "The control: same model without weight decay. It memorises and never generalises.",
    }

    def build(self) -> None:
        c = self.config
        self.device = resolve_device(c.device)
        self.table = modular_table(c.p, c.operation, c.train_fraction, c.seed)
        torch.manual_seed(c.seed)
        if c.model == "mlp":
            self.model = PairMLP(c.p, c.width, c.activation, c.init_scale)
        else:
            self.model = GrokTransformer(c.p, c.d_model, c.n_heads, c.d_mlp, c.init_scale)
        self.model.to(self.device)
        self.shadow = self.make_shadow()
        graphed = c.cuda_graph and self.device.type == "cuda"
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=c.lr, weight_decay=c.weight_decay,
                                           betas=(0.9, c.beta2), capturable=graphed)
        self.graphed = GraphedStep(self._loss_and_step, self.optimizer) if graphed else None
        as_tensor = lambda x: torch.as_tensor(x, device=self.device)  # noqa: E731
        self.a, self.b, self.y = as_tensor(self.table.a), as_tensor(self.table.b), as_tensor(self.table.y)
        self.train_idx, self.test_idx = as_tensor(self.table.train), as_tensor(self.table.test)
        self.a_train, self.b_train, self.y_train = self.a[self.train_idx], self.b[self.train_idx], self.y[self.train_idx]
        self.train_grid = self.table.is_train_grid

    def landscape_probe(self) -> LandscapeProbe:
        n = min(PROBE_SAMPLES, len(self.y_train))
        a, b, y = self.a_train[:n], self.b_train[:n], self.y_train[:n]     # the split is already shuffled
        return LandscapeProbe(self.model, (a, b), lambda logits: F.cross_entropy(logits, y),
                              label=f"train loss ({n} training pairs)")

    def step(self) -> torch.Tensor:
        if self.graphed is not None:
            return self.graphed()
        self.optimizer.zero_grad(set_to_none=True)
        return self._loss_and_step().detach()

    def _loss_and_step(self) -> torch.Tensor:
        loss = F.cross_entropy(self.model(self.a_train, self.b_train), self.y_train)
        loss.backward()
        self.optimizer.step()
        return loss

    def apply_live(self, name: str, value) -> None:
        super().apply_live(name, value)
        if self.graphed is not None and name in ("lr", "weight_decay"):
            self.graphed.invalidate()      # the recorded step holds the old value

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if self.graphed is not None:
            self.graphed.invalidate()      # the optimiser's state tensors were replaced

    # ---- observation -----------------------------------------------------------
    @torch.no_grad()
    def observe(self, captured: dict):
        model = self.load_shadow(captured)
        c, p = self.config, self.config.p
        logits, hidden = model.forward_with_hidden(self.a, self.b)            # (p², p), (p², d)
        logits_np = logits.float().cpu().numpy()
        y = self.table.y
        correct = logits_np.argmax(axis=1) == y
        train, test = self.table.train, self.table.test
        log_probs = torch.log_softmax(logits.float(), dim=1)
        nll = -log_probs[torch.arange(p * p, device=self.device), self.y].cpu().numpy()

        # Nanda's key frequencies: those the neurons use, from their activations over (a, b),
        # never from the embedding (for both models; for the transformer the only honest source).
        hidden_np = hidden.float().cpu().numpy()
        neuron_energy, neuron_total = progress.neuron_frequency_energy(hidden_np, p)
        keys = progress.neuron_key_frequencies(neuron_energy, neuron_total)
        restricted, excluded = fourier.restricted_and_excluded_loss(logits_np, y, train, p, keys)
        embedding_energy, described = DESCRIBE_NEURONS[c.model](model, hidden_np, p, neuron_energy, neuron_total)
        per_neuron, dominant, share = described.energy, described.dominant, described.share
        K = per_neuron.shape[1]
        W_out = model.output_weights().float().cpu().numpy()                 # (d, p)
        order = np.lexsort((-share, dominant))                               # group by k, strongest first

        neuron = min(c.selected_neuron, per_neuron.shape[0] - 1)
        activation = hidden_np[:, neuron].reshape(p, p)
        # Row i of the relabelled grid is a = i·k⁻¹ mod p, so a wave at frequency k in a + b
        # shows as one broad stripe instead of a fine plaid (p is prime: k is invertible).
        relabel = (np.arange(p) * pow(int(dominant[neuron]), -1, p)) % p
        weight_norm = torch.sqrt(sum((w.float() ** 2).sum() for w in model.parameters())).item()

        scalars = {
            "loss.train": float(nll[train].mean()),
            "loss.test": float(nll[test].mean()),
            "acc.train": float(correct[train].mean()),
            "acc.test": float(correct[test].mean()),
            "loss.restricted": restricted,
            "loss.excluded": excluded,
            "fourier.key_count": float(len(keys)),
            "weights.norm": weight_norm,
            "fourier.top_share": fourier.top_share(embedding_energy, 0.1),
            "fourier.gini": fourier.gini(embedding_energy),
            "neurons.mean_dominant_share": float(share.mean()),
            "neurons.concentration": float(fourier.top_share_per_column(per_neuron, 0.1).mean()),
            "neuron.selected": float(neuron),
            "neuron.frequency": float(dominant[neuron]),
            "neuron.share": float(share[neuron]),
            **{f"hparams.{k}": v for k, v in captured["hparams"].items()},
        }
        # 0 test wrong, 1 test right, 2 train wrong, 3 train right: one small int image.
        grid = (correct.reshape(p, p).astype(np.int8) + 2 * self.train_grid.astype(np.int8))
        arrays = {
            "fourier.energy": embedding_energy.astype(np.float32),
            "fourier.key_frequencies": keys.astype(np.int32),                # the neurons' frequencies, 1 … K
            "neurons.frequency_energy": described.fraction.astype(np.float32),  # (d, K), rows sum to ≤ 1
            "neurons.order": order.astype(np.int32),
            "neurons.dominant": dominant.astype(np.int32),
            "neurons.share": share.astype(np.float32),
            "neurons.phase_a": described.phase_a.astype(np.float32),
            "neurons.phase_b": described.phase_b.astype(np.float32),
            "neurons.phase_out": fourier.phase_at(W_out.T, dominant).astype(np.float32),
            # ψ ≈ φ_{a+b} (the phase of the neuron's wave in a + b; φ_a + φ_b for the MLP) is the
            # phase relation of a neuron that computes cos(w(a+b−c)).
            "neurons.phase_sum": described.phase_sum.astype(np.float32),
            "neurons.per_frequency": fourier.neurons_per_frequency(dominant, K).astype(np.int32),
            "grid.correct": grid,
            "neuron.activation": activation.astype(np.float32),
            "neuron.activation_by_k": activation[np.ix_(relabel, relabel)].astype(np.float32),
            "neuron.spectrum": per_neuron[neuron].astype(np.float32),
        }
        return scalars, arrays
