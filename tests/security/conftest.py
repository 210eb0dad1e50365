"""One workspace per module: built once, rolled back at the end, each request isolated in a savepoint."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from tests.security.world import World, build_world


@pytest.fixture(scope="module")
def matrix_media_root(tmp_path_factory):
    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("matrix-media"))):
        yield


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker, matrix_media_root) -> World:
    """Built inside a transaction that is never committed: the tests' own savepoints nest in it."""
    from surveys import public_rate

    # The public survey endpoints count per minute across runs: a spent budget must not decide a cell.
    public_rate.reset_counts()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
