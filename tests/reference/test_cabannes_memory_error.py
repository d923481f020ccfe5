"""Cabannes, Dohmatob & Bietti (2024), "Scaling laws for associative memories" (ICLR), §2: the
error of a memory, implemented again from the paper in numpy float64 and compared with ours.

Tokens x = 1 … n come with p(x) ∝ x^(−α); each has one class f*(x). The memory W (d × d) with
input embeddings e_x and output embeddings u_y answers f_W(x) = argmax_y u_yᵀ W e_x, and its
error is E(W) = Σ_x p(x) · 1[f_W(x) ≠ f*(x)]. Our model computes the logits as e_xᵀ W u_y (rows
of the embedding times W), so its W is the paper's Wᵀ.
Run: pytest tests/reference/test_cabannes_memory_error.py"""
import numpy as np
import pytest
import torch

from sandbox.studies.associative_memory import DIMS, AssociativeMemoryStudy

N_TOKENS, N_CLASSES = 40, 5


# ---- the reference ---------------------------------------------------------------------------
def zipf(n: int, alpha: float) -> np.ndarray:
    """p(x) = x^(−α) / Σ_{x'=1}^{n} x'^(−α), x = 1 … n (index 0 is x = 1)."""
    weights = np.array([x ** -alpha for x in range(1, n + 1)], dtype=np.float64)
    return weights / weights.sum()


def paper_error(W: np.ndarray, e: np.ndarray, u: np.ndarray, f_star: np.ndarray, p: np.ndarray) -> float:
    """E(W) token by token: e (n, d) rows e_x, u (m, d) rows u_y, W in the paper's orientation."""
    error = 0.0
    for x in range(len(p)):
        scores = [u[y] @ W @ e[x] for y in range(len(u))]
        if int(np.argmax(scores)) != f_star[x]:
            error += p[x]
    return error


# ---- ours ------------------------------------------------------------------------------------
def study(**values) -> AssociativeMemoryStudy:
    torch.set_num_threads(1)
    s = AssociativeMemoryStudy(preset="Zipf α = 1.5", device="cpu", n_tokens=N_TOKENS, n_classes=N_CLASSES,
                               **values)
    s.build()
    return s


def paper_view(s: AssociativeMemoryStudy, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W, e, u) of our memory of size d, in the paper's orientation, as float64."""
    W = s.model.memories[DIMS.index(d)].detach().double().numpy().T
    e = getattr(s.model, f"embed_{d}").double().numpy()                 # (n, d)
    u = getattr(s.model, f"unembed_{d}").double().numpy().T             # (m, d)
    return W, e, u


def set_memory(s: AssociativeMemoryStudy, d: int, W_paper: np.ndarray, e: np.ndarray, u: np.ndarray) -> None:
    with torch.no_grad():
        s.model.memories[DIMS.index(d)].copy_(torch.as_tensor(W_paper.T, dtype=torch.float32))
        getattr(s.model, f"embed_{d}").copy_(torch.as_tensor(e, dtype=torch.float32))
        getattr(s.model, f"unembed_{d}").copy_(torch.as_tensor(u.T, dtype=torch.float32))


def orthonormal_embeddings(d: int) -> tuple[np.ndarray, np.ndarray]:
    """e_x = the x-th basis vector, u_y = the (n + y)-th: all orthonormal (needs d ≥ n + m)."""
    basis = np.eye(d)
    return basis[:N_TOKENS], basis[N_TOKENS:N_TOKENS + N_CLASSES]


# ---- the comparisons -------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [1.0, 1.5, 2.0])
def test_the_task_draws_tokens_with_zipf_probabilities(alpha):
    s = study(zipf=alpha)
    np.testing.assert_allclose(s.task.probabilities.numpy(), zipf(N_TOKENS, alpha), rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_error_of_every_memory_matches_the_paper_during_training(seed):
    s = study(seed=seed)
    p, f_star = zipf(N_TOKENS, 1.5), s.task.labels.numpy()
    for steps in (0, 30):   # at init, then after 30 more Adam steps (the frequent tokens stored)
        for _ in range(steps):
            s.step()
        scalars, _ = s.snapshot()
        for d in DIMS:
            expected = paper_error(*paper_view(s, d), f_star, p)
            assert scalars[f"error.d{d}"] == pytest.approx(expected, abs=1e-6), (seed, steps, d)


def test_a_memory_of_every_association_on_orthonormal_embeddings_makes_no_error():
    """W = Σ_x u_{f*(x)} e_xᵀ: u_yᵀ W e_x = 1[y = f*(x)], so every token is answered rightly."""
    s = study()
    f_star = s.task.labels.numpy()
    e, u = orthonormal_embeddings(64)
    W = sum(np.outer(u[f_star[x]], e[x]) for x in range(N_TOKENS))
    set_memory(s, 64, W, e, u)
    assert paper_error(W, e, u, f_star, zipf(N_TOKENS, 1.5)) == 0.0
    assert s.snapshot()[0]["error.d64"] == 0.0


@pytest.mark.parametrize("k", [1, 5, 20])
def test_a_memory_of_the_k_most_frequent_tokens_errs_on_the_tail_mass(k):
    """W = Σ_{x ≤ k} u_{f*(x)} e_xᵀ answers the first k rightly and scores 0 for every class on
    the rest. The paper leaves such ties open and both argmaxes take the first class, so the
    tail's classes avoid class 0: each unstored token is then wrong, and E(W) = Σ_{x > k} p(x)."""
    s = study()
    f_star = s.task.labels.numpy().copy()
    f_star[k:] = 1 + f_star[k:] % (N_CLASSES - 1)          # classes 1 … m−1 only
    s.labels = torch.as_tensor(f_star)                       # what the study scores against
    e, u = orthonormal_embeddings(64)
    W = sum(np.outer(u[f_star[x]], e[x]) for x in range(k))
    set_memory(s, 64, W, e, u)
    p = zipf(N_TOKENS, 1.5)
    tail = p[k:].sum()
    assert paper_error(W, e, u, f_star, p) == pytest.approx(tail, rel=1e-12)
    assert s.snapshot()[0]["error.d64"] == pytest.approx(tail, rel=1e-6)
