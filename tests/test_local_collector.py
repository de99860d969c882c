"""read_table's pause of the cyclic garbage collector: always restored as the caller left it."""
from __future__ import annotations

import gc
import threading

import pytest

from sparkbam_py.local.collector import collector_paused


@pytest.fixture(autouse=True)
def restore_collector():
    was_enabled = gc.isenabled()
    yield
    (gc.enable if was_enabled else gc.disable)()


@pytest.mark.parametrize("enabled", [True, False])
def test_paused_inside_and_restored_after_even_on_error(enabled):
    (gc.enable if enabled else gc.disable)()
    with pytest.raises(KeyError):
        with collector_paused():
            assert not gc.isenabled()
            raise KeyError("decode failed")
    assert gc.isenabled() is enabled


def test_overlapping_pauses_end_with_the_last():
    gc.enable()
    inside, release = threading.Event(), threading.Event()

    def other_read():
        with collector_paused():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_read)
    with collector_paused():
        thread.start()
        inside.wait(10)
    assert not gc.isenabled()  # the other read is still running
    release.set()
    thread.join(10)
    assert gc.isenabled()
