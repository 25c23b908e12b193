"""Composition root of ``bastion wrap``: one sandboxed stdio upstream behind the chain.

A desktop client (Claude Desktop, Cursor, VS Code) starts ``bastion wrap -- CMD ARGS``
instead of ``CMD ARGS``. The wrapper speaks stdio to the client, starts the real server in
the sandbox, and runs every message through the same chain as the HTTP gateway, with the
configured local identity (default: the default config's local identity) as principal.
Tool names are not namespaced: the client sees the server's own names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from mcp_types import JSONRPCNotification

from mcp_bastion.config import BastionConfig, default_config, load_config
from mcp_bastion.config.upstreams import Upstream
from mcp_bastion.errors import ConfigError
from mcp_bastion.gateway.runtime import GatewayRuntime
from mcp_bastion.transports.downstream import Downstream
from mcp_bastion.transports.stdio_downstream import StdioDownstream
from mcp_bastion.types import AuthMethod, Principal

__all__ = ["WRAPPED", "run_wrap", "wrap_config"]

logger = logging.getLogger(__name__)

WRAPPED = "server"
"""The upstream name of the wrapped server (appears in audit records and pins)."""


def wrap_config(
    command: Sequence[str],
    *,
    config_file: Path | None = None,
    role: str | None = None,
) -> BastionConfig:
    """The config for wrapping ``command``: the file's settings (or the defaults), one upstream.

    With a config file, its first upstream (if any) is the template for the wrapped server's
    settings (sandbox profile, environment); its command is replaced by ``command``.
    """
    if not command:
        raise ConfigError("wrap: a server command is required after '--'")
    if config_file is None:
        return default_config(command, upstream=WRAPPED, role=role or "operator")
    base = load_config(config_file)
    template = next(iter(base.upstreams.values()), None)
    fields = template.model_dump(exclude={"command", "url"}, exclude_unset=True) if template else {}
    wrapped = Upstream.model_validate({**fields, "command": tuple(command)})
    update: dict[str, object] = {"upstreams": {WRAPPED: wrapped}}
    if role is not None:
        local = base.identities.local.model_copy(update={"roles": (role,)})
        update["identities"] = base.identities.model_copy(update={"local": local})
    return base.model_copy(update=update)


async def run_wrap(config: BastionConfig) -> None:
    """Serve stdin/stdout until the client closes stdin."""
    local = config.identities.local
    principal = Principal(
        subject=local.subject,
        roles=frozenset(local.roles),
        tenant=local.tenant,
        auth_method=AuthMethod.LOCAL,
    )
    limits = config.guard("limits")
    max_bytes = getattr(limits, "max_body_bytes", 1_048_576)
    holder: list[StdioDownstream] = []

    async def relay(note: JSONRPCNotification) -> None:
        if holder:
            await holder[0].send(note)

    runtime = GatewayRuntime(config, namespace=False, notify_downstream=relay)
    async with runtime:
        await runtime.start()
        downstream = StdioDownstream(
            runtime.handler,
            Downstream(principal=principal, metadata={"transport": "stdio"}),
            max_message_bytes=max_bytes,
            raw_check=runtime.raw_check(),
        )
        holder.append(downstream)
        await downstream.serve()
