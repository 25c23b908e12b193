"""``default_config``: the configuration ``bastion wrap`` uses around one stdio server."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mcp_bastion.config.guards import default_guards
from mcp_bastion.config.identities import Identities, LocalIdentity
from mcp_bastion.config.listeners import Listeners, StdioListener
from mcp_bastion.config.model import BastionConfig, PolicyConfig, Stores
from mcp_bastion.config.upstreams import Upstream

__all__ = ["DEFAULT_STATE_DIR", "default_config"]

DEFAULT_STATE_DIR = Path("~/.local/state/mcp-bastion").expanduser()


def default_config(
    command: Sequence[str],
    *,
    upstream: str = "server",
    role: str = "operator",
    subject: str = "local",
    policy_dir: Path | None = None,
    state_dir: Path | None = None,
) -> BastionConfig:
    """One stdio upstream, the local identity, the default policy, every guard on.

    Pins persist in ``state_dir`` (default ``~/.local/state/mcp-bastion``) so a server that
    changes its tools between runs is caught; the caller creates the directory.
    """
    db = (state_dir or DEFAULT_STATE_DIR) / "bastion.db"
    sqlite = f"sqlite:///{db}"
    return BastionConfig(
        listeners=Listeners(stdio=StdioListener()),
        upstreams={upstream: Upstream(command=tuple(command))},
        identities=Identities(local=LocalIdentity(subject=subject, roles=(role,))),
        policy=PolicyConfig(dir=policy_dir),
        guards=default_guards(),
        stores=Stores(pins=sqlite, approvals=sqlite, audit=sqlite),
    )
