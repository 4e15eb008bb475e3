"""collection_paused: the collector is off inside, and back as it was after the last of
overlapping blocks, whichever thread ends last."""

from __future__ import annotations

import gc
import threading

from almasync.gcpause import collection_paused


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still holds it
    assert gc.isenabled()


def test_overlapping_blocks_in_two_threads_turn_it_on_once_both_ended() -> None:
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with collection_paused():
            inside.set()
            release.wait(30)

    thread = threading.Thread(target=other)
    with collection_paused():
        thread.start()
        assert inside.wait(30)
    assert not gc.isenabled()  # the other thread's block has not ended
    release.set()
    thread.join(30)
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_inside_still_turns_it_on_again() -> None:
    try:
        with collection_paused():
            raise ValueError("bad file")
    except ValueError:
        pass
    assert gc.isenabled()
