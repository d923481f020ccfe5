"""The one shared controller and the app shell every study uses."""
from .controller import StudyController
from .app import StudyApp
from .compare import CompareApp

__all__ = ["StudyController", "StudyApp", "CompareApp"]
