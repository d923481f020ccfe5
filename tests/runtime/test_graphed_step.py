"""A step replayed as a CUDA graph is the eager step. Run: pytest tests/runtime/test_graphed_step.py
(needs a CUDA GPU; skipped elsewhere)."""
import pytest
import torch
import torch.nn.functional as F

from sandbox.runtime.graphed_step import GraphedStep

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _regression(graphed: bool, steps: int = 20):
    torch.manual_seed(0)
    x, y = torch.randn(256, 8, device="cuda"), torch.randn(256, 1, device="cuda")
    model = torch.nn.Linear(8, 1).cuda()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, capturable=True)

    def loss_and_step():
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    step = GraphedStep(loss_and_step, optimizer)
    eager = lambda: (optimizer.zero_grad(set_to_none=False), loss_and_step().detach())[1]  # noqa: E731
    losses = [float(step() if graphed else eager()) for _ in range(steps)]
    return model, losses, step


def test_replays_do_the_eager_steps_and_a_change_is_recorded_again():
    eager_model, eager_losses, _ = _regression(graphed=False)
    graphed_model, graphed_losses, step = _regression(graphed=True)
    assert step.recordings == 1 and graphed_losses == pytest.approx(eager_losses, rel=1e-5)
    torch.testing.assert_close(graphed_model.weight, eager_model.weight, rtol=1e-5, atol=1e-7)
    before = step.graph
    step.invalidate()
    step(), step()
    assert step.recordings == 2 and step.graph is not before
