"""Timeline (sandbox/ui/timeline.py) on its own: which recorded step the views show."""
from sandbox.runtime.history import SnapshotRing
from sandbox.runtime.snapshot import Snapshot
from sandbox.ui.timeline import Timeline


def timeline_of(steps, run_id=1):
    ring = SnapshotRing(capacity=10)
    for serial, step in enumerate(steps, 1):
        ring.add(Snapshot(run_id=run_id, step=step, scalars={}, arrays={}, serial=serial))
    shown, lived = [], []

    def show(snap):
        shown.append(snap.step)
        timeline.shown_step = snap.step          # as the controller does when it puts a snapshot on screen

    timeline = Timeline(ring, show=show, current_run=lambda: 1, on_live=lambda: lived.append(True))
    return timeline, shown, lived


def test_scrubbing_shows_the_nearest_recorded_step_and_stops_following():
    timeline, shown, _ = timeline_of([0, 10, 20, 30])
    timeline.scrub_to(12)
    assert shown == [10] and not timeline.follow_live and timeline.shown_step == 10


def test_a_snapshot_of_another_run_is_never_shown():
    timeline, shown, _ = timeline_of([0, 10], run_id=7)
    timeline.scrub_to(10)
    assert shown == [] and timeline.follow_live


def test_a_picked_step_moves_the_slider_to_the_step_shown_without_scrubbing_again():
    timeline, shown, _ = timeline_of([0, 10, 20, 30])
    timeline.keep_up(30, running=False)
    timeline.pick(19)
    assert shown == [20] and timeline.slider.value == 20       # one show: moving the slider did not scrub


def test_the_slider_follows_the_newest_step_while_live_and_stays_while_scrubbed():
    timeline, shown, lived = timeline_of([0, 10, 20, 30])
    timeline.keep_up(30, running=False)
    assert (timeline.slider.end, timeline.slider.value) == (30, 30)
    timeline.scrub_to(10)
    timeline.keep_up(40, running=False)
    assert (timeline.slider.end, timeline.slider.value) == (40, 30)   # stretched, not moved
    timeline.go_live()
    assert timeline.follow_live and lived == [True]
    timeline.keep_up(50, running=False)
    assert timeline.slider.value == 50
