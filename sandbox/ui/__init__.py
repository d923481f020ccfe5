"""The one shared controller and the app shell every study uses."""
from .controller import StudyController
from .app import StudyApp

__all__ = ["StudyController", "StudyApp"]
