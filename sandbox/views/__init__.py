"""Reusable views fed by Snapshots. They never touch a model or a thread."""
from .base import View
from .curves import Curves
from .bars import Bars
from .image import Image
from .linked import LinkedPlanes
from .patterns import PatternGrid
from .scatter import Scatter

__all__ = ["View", "Curves", "Bars", "Image", "LinkedPlanes", "PatternGrid", "Scatter"]
