"""How a run's long loops learn that the run was stopped (its session closed)."""
from __future__ import annotations


class Stopped(BaseException):
    """Raised by a long loop (`Study.check_stop`) once its run was stopped. A BaseException, like
    KeyboardInterrupt: error handling (`except Exception`) must not turn it into an error state;
    the Runner's thread ends quietly instead."""


class NeverStopped:
    """The stop event of a study no Runner drives (a script, a test): never set."""

    @staticmethod
    def is_set() -> bool:
        return False
