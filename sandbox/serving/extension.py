"""Panel's extensions for an app's page, loaded on every page (Panel runs an app's script per page)."""
import panel as pn


def load_extensions(*names: str) -> None:
    """`pn.extension(*names)` without Panel's notifications (the status line says what happened).

    Called with exactly `("vtk",)` once VTK is loaded, Panel reads the whole call stack with its
    source lines to see whether PyVista is its caller: 20-50 ms of a page's first turn, in which
    the server answers no one. Named twice, the same extension is loaded and that check skipped."""
    if names == ("vtk",):
        names = ("vtk", "vtk")
    pn.extension(*names, notifications=False)
