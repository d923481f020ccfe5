"""Keeping the one server responsive to every page (docs/responsiveness.md): small turns (`soon`),
work that can wait (`later`), pages built one at a time and filled piece by piece, updates paced by
the browser, cheap periodic callbacks, text panes that keep their stylesheets, and what a server
gets before it runs (`serve_setup.py`: the build queue, the host guard, closed sockets).

Kept free of imports here: `serve_setup.py` runs its pieces by path before the server starts, and the
views import only what they use.
"""
