"""One module per study: config, presets and the training step. No Panel import."""
from .base import STUDIES, Study, StudyConfig, get_study, register
from . import associative_memory, clustering, flow, grokking, hopfield  # noqa: F401  (they register themselves)

__all__ = ["STUDIES", "Study", "StudyConfig", "get_study", "register"]
