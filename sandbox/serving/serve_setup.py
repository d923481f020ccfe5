"""`panel serve --setup sandbox/serving/serve_setup.py`: what the sandbox adds to a server before it runs
(the Makefile and the tests' server pass it; keep it when you serve by hand).

- `build_queue.py`: pages opened together are built one at a time, the network read between builds.
- `http_guard.py`: a request for a host the server was not told to serve is refused before any page
  is built; answers may not be framed by other sites.
- `closed_sockets.py`: a tab closed mid-update is not logged as an error.

Both are run by path, as panel serve runs this file: importing the `sandbox.ui` package here would
load Panel, torch and the views before the server has started.
"""
import runpy
from pathlib import Path

HERE = Path(__file__).resolve().parent

runpy.run_path(str(HERE / "build_queue.py"))               # installs itself
runpy.run_path(str(HERE / "http_guard.py"))["install"]()
runpy.run_path(str(HERE / "closed_sockets.py"))["install"]()
