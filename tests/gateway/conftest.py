"""Fixtures for gateway tests (helpers live in ``tests/gateway/harness.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.gateway.harness import GatewayFactory, make_gateway_factory


@pytest.fixture
def gateway_for(tmp_path: Path) -> GatewayFactory:
    """``async with gateway_for({"name": server, ...}) as harness``: default config, all guards."""
    return make_gateway_factory(tmp_path)
