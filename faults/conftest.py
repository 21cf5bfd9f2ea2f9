"""The private stack of a fault run: started once, torn down at the end, Django in this process on it."""

import os

import django
import pytest

from faults.scenario import results_path, summary_lines
from faults.stack import App, Stack


@pytest.fixture(scope="session")
def stack():
    stack = Stack()
    try:
        stack.start()
        # This process reads and writes the private database too (people, tokens, the ledger).
        os.environ.update(stack.env)
        django.setup()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def app(stack: Stack, request) -> App:
    """Two Daphnes and the worker, fresh for each scenario (its logs in test-artifacts/faults/)."""
    app = stack.app(request.node.name)
    app.start()
    try:
        yield app
    finally:
        app.stop()


def pytest_terminal_summary(terminalreporter):
    lines = summary_lines()
    if lines:
        terminalreporter.section("fault figures (acked, stored, lost, duplicates, recovery)")
        for line in lines:
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"(also in {results_path()})")
