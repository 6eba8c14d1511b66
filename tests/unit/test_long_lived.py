"""The collector waits while a process loads what it keeps, then leaves those objects frozen."""

import gc

import pytest

from pipelines.long_lived import loading_long_lived_objects


@pytest.fixture(autouse=True)
def collector_as_found():
    """Each test starts with the collector running and nothing frozen, and leaves it so."""
    was_enabled = gc.isenabled()
    gc.unfreeze()
    gc.enable()
    yield
    gc.unfreeze()
    (gc.enable if was_enabled else gc.disable)()


def test_no_collection_inside_the_block_and_what_it_loaded_is_frozen_after():
    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        with loading_long_lived_objects():
            assert not gc.isenabled()
            loaded = [[index] for index in range(50_000)]  # enough new objects to set off collections
            assert collections == []
    finally:
        gc.callbacks.remove(count)
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(loaded)


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    with loading_long_lived_objects():
        pass
    assert not gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_an_error_inside_the_block_still_resumes_the_collector():
    with pytest.raises(RuntimeError, match="loading failed"), loading_long_lived_objects():
        raise RuntimeError("loading failed")
    assert gc.isenabled()
