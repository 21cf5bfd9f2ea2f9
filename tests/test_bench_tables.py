"""The bench empties what a run writes before each run: those must be tables, and all of them."""

import importlib.util
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

SERVER = Path(__file__).resolve().parents[1] / "bench" / "server.py"


def run_tables() -> list[str]:
    spec = importlib.util.spec_from_file_location("bench_server", SERVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RUN_TABLES


def test_every_table_the_bench_empties_is_a_table_and_whatever_refers_to_one_is_emptied_too():
    tables = run_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        base = {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
        )
        references = cursor.fetchall()
    assert set(tables) <= base, "TRUNCATE refuses a view or a missing table"
    # TRUNCATE refuses a table another table refers to, unless that one is emptied with it.
    assert {source for source, target in references if target in tables} <= set(tables)
