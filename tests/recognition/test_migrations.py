"""Migrations that fill existing rows: each identification already stored gets its own public id."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = [("recognition", "0009_deliveries")], [("recognition", "0010_public_id")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_identifications_stored_before_get_distinct_public_ids(django_user_model):
    try:
        old = _migrate(BEFORE)
        owner = old.get_model("auth", "User").objects.create(username="early")
        Identification = old.get_model("recognition", "Identification")
        stored = [Identification.objects.create(owner_id=owner.pk).pk for _ in range(3)]
        new = _migrate(AFTER)
        public_ids = dict(new.get_model("recognition", "Identification").objects.values_list("pk", "public_id"))
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert sorted(public_ids) == sorted(stored)
    assert None not in public_ids.values() and len(set(public_ids.values())) == 3
