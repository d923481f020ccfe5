"""The server's idle memory over cycles of sessions that open, train and close (issue 21).

Each cycle K headless pages open an app together, Start, train, and close; once Bokeh has dropped
the closed sessions (no session thread left) and Panel has collected them, the idle RSS is taken.

    python -m benchmarks.memory_cycles [--cycles 5] [--sessions 6] [--app associative_memory]
                                       [--train 10] [--probe] [--trim] [--trace FRAMES]
                                       [--unregister-plotters] [--release] [--env MALLOC_ARENA_MAX=2]

Prints a table (cycle, idle RSS, threads). `--probe` adds what the server holds after each cycle:
live sandbox objects (controllers, Runners, studies, torch modules, Bokeh documents) after a full
collection, and glibc's own account (`mallinfo2`): bytes in use by malloc versus bytes it has freed
but still holds, and its arenas. `--trim` asks the server to `malloc_trim(0)` after each cycle's
reading and takes RSS again; `--trace` lists the Python allocation sites that grew. All go through a
signal to a probe installed by this script's own `--setup` file (which runs sandbox/serving/serve_setup.py
first); the apps are untouched. `--unregister-plotters` and `--release` apply issue 21's two fixes
from outside, for the before/after comparison. A report, not a test (its figures: issue 21).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time
from pathlib import Path

from tests.ui.serving import ROOT, Server

PROBE_ENV = "SANDBOX_MEMORY_PROBE"      # where the server's probe writes its JSON
TRACE_ENV = "SANDBOX_MEMORY_TRACE"      # with --trace: tracemalloc's frames per allocation
UNREGISTER_ENV = "SANDBOX_MEMORY_UNREGISTER_PLOTTERS"
RELEASE_ENV = "SANDBOX_MEMORY_RELEASE"
SETUP = f"""import runpy
runpy.run_path({str(ROOT / "sandbox" / "serving" / "serve_setup.py")!r})
from benchmarks.memory_cycles import install_probe
install_probe()
"""
# Panel collects 5 s after the last session is destroyed, and sandbox/serving/memory.py releases 8 s after.
AFTER_DROP_S = 10.0
COUNTED = ("StudyController", "Runner", "Study", "Module", "Document", "ServerSession", "Snapshot",
           "Tensor", "ndarray", "Thread", "Viewer", "Model")   # class names (and their subclasses) counted live


# ---- inside the server ---------------------------------------------------------
def _mallinfo() -> dict:
    """glibc's heap account (MB): `in_use` by the program, `free_held` freed and kept by malloc (pages
    malloc_trim gave back still count here: read RSS for those), `mmapped` in chunks of their own;
    and the number of arenas (one per thread that allocated while the others were busy, up to 8 per
    core)."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")]
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    with tempfile.NamedTemporaryFile("r", suffix=".xml") as xml:
        libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
        libc.malloc_info.argtypes, libc.fclose.argtypes = [ctypes.c_int, ctypes.c_void_p], [ctypes.c_void_p]
        stream = libc.fopen(xml.name.encode(), b"w")
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        arenas = xml.read().count("<heap nr=")
    return {"in_use_mb": info.uordblks / 2**20, "free_held_mb": info.fordblks / 2**20,
            "mmapped_mb": info.hblkhd / 2**20, "arenas": arenas}


def _smaps() -> dict:
    """Resident MB by kind: anonymous (heaps, stacks, pymalloc) versus file-backed (libraries)."""
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return {"anon_mb": fields.get("Anonymous", 0.0), "file_mb": fields.get("Rss", 0.0) - fields.get("Anonymous", 0.0)}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _live_counts() -> dict:
    import gc

    gc.collect()
    counts = dict.fromkeys(COUNTED, 0)
    by_type: dict[str, int] = {}
    for obj in gc.get_objects():          # tracked, not frozen: what sessions made since the import
        kind = type(obj)
        by_type[kind.__name__] = by_type.get(kind.__name__, 0) + 1
        for base in kind.__mro__:
            if base.__name__ in counts:
                counts[base.__name__] += 1
    return {"live": counts, "objects": sum(by_type.values()),
            "top_types": dict(sorted(by_type.items(), key=lambda kv: -kv[1])[:12])}


def _threads() -> dict:
    import threading

    names = [thread.name for thread in threading.enumerate()]
    return {"sandbox_threads": sum(name.startswith("sandbox-") for name in names), "python_threads": len(names)}


def _traced(limit: int = 8) -> list[str]:
    """The allocation sites whose bytes grew most since the second probe (with --trace: the first
    starts tracing, so that the server's start, which takes seconds more traced, is not)."""
    import tracemalloc

    global _FIRST_TRACE
    if not tracemalloc.is_tracing():     # from the first probe on: what the cycles allocate
        tracemalloc.start(int(os.environ[TRACE_ENV]))
        return []
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    if _FIRST_TRACE is None:
        _FIRST_TRACE = snapshot
        return []
    grown = snapshot.compare_to(_FIRST_TRACE, "traceback")[:limit]
    return [f"{stat.size_diff / 2**20:+.1f} MB {stat.count_diff:+d} blocks: "
            + " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in stat.traceback[:6]) for stat in grown]


_FIRST_TRACE = None


def _plotters() -> int:
    """PyVista Plotters still registered (pyvista keeps each in a module dict until close())."""
    import sys

    plotter = sys.modules.get("pyvista.plotting.plotter")
    return -1 if plotter is None else len(plotter._ALL_PLOTTERS)


def _unregister_plotters() -> None:
    """--unregister-plotters: what the proposed fix to sandbox/views/surface3d.py does, applied from
    outside (a Plotter leaves PyVista's registry as soon as it is made and lives as long as its view)."""
    from pyvista.plotting import plotter

    made = plotter.Plotter.__init__

    def __init__(self, *args, **kwargs):
        made(self, *args, **kwargs)
        plotter._ALL_PLOTTERS.pop(self._id_name, None)
    plotter.Plotter.__init__ = __init__


def _release_on_close() -> None:
    """--release: the proposed call in sandbox/ui/controller.py, applied from outside (a served
    session's destroy callback schedules sandbox/serving/memory.py's release)."""
    from sandbox.ui.controller import StudyController
    from sandbox.serving.memory import release_after_collection

    close = StudyController.close

    def close_and_release(self):
        close(self)
        release_after_collection()
    StudyController.close = close_and_release


def _probe(mode: str) -> None:
    if mode == "threads":
        report = _threads()
    else:
        report = {"rss_mb": _rss_mb(), **_threads(), **_live_counts(), "malloc": _mallinfo(),
                  "rss": _smaps(), "plotters": _plotters()}
        if os.environ.get(TRACE_ENV):
            report["traced"] = _traced()
    if mode == "trim":
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        report["rss_after_trim_mb"] = _rss_mb()
        report["malloc_after_trim"] = _mallinfo()
    path = Path(os.environ[PROBE_ENV])
    path.with_suffix(".tmp").write_text(json.dumps(report))
    path.with_suffix(".tmp").replace(path)


def install_probe() -> None:
    """In the server (this script's --setup): SIGUSR1 writes the probe the request file names
    ("threads", "probe", or "trim": a probe, then malloc_trim(0)).
    A Python signal handler runs on the main thread, between two steps of the event loop."""
    if os.environ.get(UNREGISTER_ENV):
        _unregister_plotters()
    if os.environ.get(RELEASE_ENV):
        _release_on_close()
    request = Path(os.environ[PROBE_ENV]).with_suffix(".request")
    signal.signal(signal.SIGUSR1, lambda *_: _probe(request.read_text()))


# ---- the driver ----------------------------------------------------------------
def ask_probe(server: Server, path: Path, mode: str, timeout: float = 60) -> dict:
    path.unlink(missing_ok=True)
    path.with_suffix(".request").write_text(mode)
    server.process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the server's probe did not answer")
        time.sleep(0.2)
    return json.loads(path.read_text())


def settle(server: Server, probe_path: Path, timeout: float) -> float:
    """Wait until no session's thread is left (Bokeh has dropped the closed sessions); seconds waited.
    Counted by name: the total does not do (before issue 21's fix, the never-closed 3-D scenes kept
    five threads of Mesa's for good)."""
    started = time.monotonic()
    while (ask_probe(server, probe_path, "threads")["sandbox_threads"] > 0
           and time.monotonic() - started < timeout):
        time.sleep(1)
    return time.monotonic() - started


def cycle(server: Server, app: str, sessions: int, train_s: float) -> int:
    """Open `sessions` pages together, Start each, train, close them all; the highest step reached."""
    from tests.ui.headless import HeadlessPages   # Bokeh and tornado: loaded in the driver only

    pages = HeadlessPages(server.url, app, sessions)
    try:
        pages.open_all()
        for page in pages.pages:
            pages.click(page, "Start")
        time.sleep(train_s)
        return max(page.step for page in pages.pages)
    finally:
        pages.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--app", default="associative_memory")
    parser.add_argument("--train", type=float, default=10.0, help="seconds of training per cycle")
    parser.add_argument("--settle", type=float, default=60.0, help="longest wait for the sessions to go")
    parser.add_argument("--probe", action="store_true", help="live objects and malloc's account per cycle")
    parser.add_argument("--trim", action="store_true", help="malloc_trim(0) in the server after each reading")
    parser.add_argument("--trace", type=int, default=0, metavar="FRAMES",
                        help="tracemalloc in the server: the allocation sites that grew (slow)")
    parser.add_argument("--unregister-plotters", action="store_true",
                        help="apply the proposed surface3d.py fix from outside (the issue-21 comparison)")
    parser.add_argument("--release", action="store_true",
                        help="apply the proposed controller.py call from outside: sandbox/serving/memory.py's "
                             "release when a session closes")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server (repeatable)")
    args = parser.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.env)
    if args.unregister_plotters:
        env[UNREGISTER_ENV] = "1"
    if args.release:
        env[RELEASE_ENV] = "1"
    mode = "trim" if args.trim else "probe"
    detail = args.probe or args.trim or args.trace
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "apps").symlink_to(ROOT / "apps")
        (tmp / "memory_setup.py").write_text(SETUP)
        probe_path = tmp / "probe.json"
        if args.trace:
            env[TRACE_ENV] = str(args.trace)
        server = Server(tmp, env={**env, PROBE_ENV: str(probe_path)},
                        args=("--setup", str(tmp / "memory_setup.py")))
        try:
            settle(server, probe_path, args.settle)   # the server's own first page (its answer check) is dropped too
            print(f"{args.app}: {args.cycles} cycles of {args.sessions} sessions, {args.train:.0f} s training; "
                  f"server env {env or '-'}; {server.threads()} threads, RSS {server.rss_mb():.0f} MB", flush=True)
            print(HEADER + (DETAIL if detail else "") + (f" {'RSS trimmed':>11}" if args.trim else ""), flush=True)
            print(_row(0, 0, server, 0.0, ask_probe(server, probe_path, mode) if detail else None), flush=True)
            for n in range(1, args.cycles + 1):
                step = cycle(server, args.app, args.sessions, args.train)
                waited = settle(server, probe_path, args.settle)
                time.sleep(AFTER_DROP_S)
                probe = ask_probe(server, probe_path, mode) if detail else None
                print(_row(n, step, server, waited, probe), flush=True)
                for line in (probe or {}).get("traced", []):
                    print("      " + line, flush=True)
            if detail:
                print(f"live after the last cycle: {probe['live']}; most common: {probe['top_types']}")
        finally:
            errors = [line for line in server.output().splitlines() if "Traceback" in line or " ERROR" in line]
            server.close()
        print(f"server errors logged: {len(errors)}")


HEADER = f"{'cycle':>5} {'step':>6} {'idle RSS MB':>11} {'threads':>7} {'settled s':>9}"
DETAIL = (f" {'anon MB':>7} {'malloc in use':>13} {'freed, held':>11} {'arenas':>6} {'objects':>8}"
          f" {'ctrl/runner/module/doc':>22} {'plotters':>8}")


def _row(n: int, step: int, server: Server, waited: float, probe: dict | None) -> str:
    rss = probe["rss_mb"] if probe else server.rss_mb()
    row = f"{n:>5} {step:>6} {rss:>11.0f} {server.threads():>7} {waited:>9.0f}"
    if probe:
        m, live = probe["malloc"], probe["live"]
        kept = f"{live['StudyController']}/{live['Runner']}/{live['Module']}/{live['Document']}"
        row += (f" {probe['rss']['anon_mb']:>7.0f} {m['in_use_mb']:>13.0f} {m['free_held_mb']:>11.0f} {m['arenas']:>6}"
                f" {probe['objects']:>8} {kept:>22} {probe['plotters']:>8}")
        if "rss_after_trim_mb" in probe:
            row += f" {probe['rss_after_trim_mb']:>11.0f}"
    return row


if __name__ == "__main__":
    main()
