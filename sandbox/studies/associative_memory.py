"""Study D, trained part: associative memories learned by gradient descent (Cabannes, Dohmatob
& Bietti, "Scaling laws for associative memories", ICLR 2024).

Memories of several sizes d learn the same Zipf-distributed token → class associations from the
same batches (cross-entropy on u_yᵀ W e_x). Frequent tokens are stored first; a larger memory
also keeps rarer ones, so the error falls as a power law in d, and with the data seen.
"""
from __future__ import annotations

import numpy as np
import param
import torch
import torch.nn.functional as F

from ..analysis.landscape import LandscapeProbe
from ..analysis.memory import power_law_exponent, zipf_error
from ..models.associative_memory import AssociativeMemories
from ..runtime.device import resolve_device
from ..tasks.zipf import ZipfAssociations
from .base import StudyConfig, TorchStudy, register
from .cost import FLOAT, Cost, landscape_memory

DIMS = (4, 8, 16, 32, 64)      # the memory sizes trained side by side


class MemoryConfig(StudyConfig):
    n_tokens = param.Integer(default=200, bounds=(2, 100_000), label="Tokens", doc="Distinct inputs x.")
    n_classes = param.Integer(default=5, bounds=(2, 1000), label="Classes", doc="Distinct outputs y.")
    zipf = param.Number(default=1.5, bounds=(0.1, 5.0), label="Zipf α",
                        doc="p(x) ∝ x^(−α): larger α puts more of the mass on the first tokens.")
    batch_size = param.Integer(default=256, bounds=(1, 65_536), doc="Samples per step.")
    optimizer = param.Selector(default="adam", objects=["adam", "sgd"], doc="Adam, or plain SGD.")
    lr = param.Number(default=1e-2, bounds=(1e-5, 100.0), label="Learning rate", doc="Step size (live).")

    def cost(self) -> Cost:
        """Every memory's (rows, n_classes) logits are alive together: a step's rows are the batch
        (logits, log-softmax and their gradients, ~5 copies), a snapshot's every token (logits,
        log-softmax and the other pass's logits, ~3), and the landscape's every token at each of its
        weight points: the landscape dominates. The fixed embeddings are (n_tokens + n_classes) × Σd,
        twice (the model and its shadow). Measured with the landscape: n_tokens = 10 000, n_classes = 100
        peaks at 1.3 GB (2.0 estimated); a tenth of n_tokens = 100 000, n_classes = 1000, batch 65 536
        had grown by 2.8-3.2 GB one second into its first landscape (20 GB estimated)."""
        logits = len(DIMS) * self.n_classes
        memory = (FLOAT * logits * (5 * self.batch_size + 3 * self.n_tokens)
                  + landscape_memory(self.n_tokens, logits)
                  + FLOAT * 2 * sum(DIMS) * (self.n_tokens + self.n_classes))
        work = 2 * sum(d * d + d * self.n_classes for d in DIMS) * max(self.batch_size, self.n_tokens) * 3
        return Cost(memory=memory, work=work, memory_from=("n_tokens", "n_classes", "batch_size"),
                    work_from=("n_tokens", "n_classes", "batch_size"))


@register
class AssociativeMemoryStudy(TorchStudy):
    name = "associative_memory"
    title = "Associative memories trained by gradient descent"
    Config = MemoryConfig
    LIVE = ("lr",)
    APPS = ("associative_memory",)
    TINY = dict(n_tokens=20, batch_size=16, device="cpu")
    HEADLINE = {"error.d64": "error (d = 64)", "scaling.exponent": "exponent"}
    DEFAULT_PRESET = "Zipf α = 1.5"
    BASE = dict(n_tokens=200, n_classes=5, zipf=1.5, batch_size=256, optimizer="adam", lr=1e-2, seed=0)
    PRESETS = {
        "Zipf α = 1.5": BASE,
        "Zipf α = 2 (few frequent tokens)": {**BASE, "zipf": 2.0},
        "Zipf α = 1 (long tail)": {**BASE, "zipf": 1.0},
        "SGD": {**BASE, "optimizer": "sgd", "lr": 10.0},
    }
    PRESET_NOTES = {
        "Zipf α = 1.5": "Five memories (d = 4 … 64) learn 200 token → class pairs from the same batches. "
                        "The error falls with d as a power law (log-log plot): a bigger memory keeps rarer tokens.",
        "Zipf α = 2 (few frequent tokens)": "Most samples are a few tokens: even small memories reach a low "
                                            "error, and the exponent is steeper.",
        "Zipf α = 1 (long tail)": "A long tail of rare tokens: every memory errs more, and size helps less per "
                                  "doubling.",
        "SGD": "Plain SGD (lr 10) instead of Adam: the same ordering by size; the largest memory ends "
               "a little worse.",
    }

    def build(self) -> None:
        c = self.config
        self.device = resolve_device(c.device)
        self.task = ZipfAssociations.make(c.n_tokens, c.n_classes, c.zipf, c.seed)
        self.labels = self.task.labels.to(self.device)
        self.all_tokens = torch.arange(c.n_tokens, device=self.device)
        self.generator = torch.Generator().manual_seed(c.seed + 1)
        torch.manual_seed(c.seed)
        self.model = AssociativeMemories(c.n_tokens, c.n_classes, DIMS).to(self.device)
        self.shadow = self.make_shadow()
        make = torch.optim.Adam if c.optimizer == "adam" else torch.optim.SGD
        self.optimizer = make(self.model.parameters(), lr=c.lr)

    def landscape_probe(self) -> LandscapeProbe:
        """The population loss of every token, weighted by its Zipf probability, summed over the
        memories: the objective the batches estimate."""
        p = self.task.probabilities.to(self.device, torch.float32)
        labels = self.labels

        def objective(outputs) -> torch.Tensor:
            return sum(F.cross_entropy(logits, labels, reduction="none") @ p for logits in outputs)
        return LandscapeProbe(self.model, (self.all_tokens,), objective,
                              label="expected loss of the five memories (all tokens, Zipf weights)")

    def step(self) -> torch.Tensor:
        tokens, labels = self.task.sample(self.config.batch_size, self.generator)
        tokens, labels = tokens.to(self.device), labels.to(self.device)
        # Each memory's loss is its own (their parameters are disjoint); the sum trains them all.
        losses = [F.cross_entropy(logits, labels) for logits in self.model(tokens)]
        self.optimizer.zero_grad(set_to_none=True)
        sum(losses).backward()
        self.optimizer.step()
        return losses[-1].detach()

    @torch.no_grad()
    def observe(self, captured: dict):
        model = self.load_shadow(captured)
        p = self.task.probabilities.numpy()
        correct = np.stack([(logits.argmax(1) == self.labels).cpu().numpy()
                            for logits in model(self.all_tokens)])                # (memories, tokens)
        losses = [float(F.cross_entropy(logits, self.labels, reduction="none").cpu().numpy() @ p)
                  for logits in model(self.all_tokens)]
        errors = np.array([zipf_error(row, p) for row in correct])
        scalars = {**{f"error.d{d}": float(e) for d, e in zip(DIMS, errors)},
                   "loss.d64": losses[-1],
                   "scaling.exponent": power_law_exponent(DIMS, errors),
                   **{f"hparams.{k}": v for k, v in captured["hparams"].items()}}
        arrays = {
            "memory.dims": np.asarray(DIMS, dtype=np.float32),
            "memory.error": errors.astype(np.float32),
            # Which tokens each memory recalls, most frequent first: rows d = 4 … 64.
            "memory.recalled": correct.astype(np.float32),
            "tokens.probability": p.astype(np.float32),
        }
        return scalars, arrays
