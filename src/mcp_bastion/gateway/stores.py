"""Open the stores a gateway or wrapper needs, from ``config.stores``.

Opening is lazy (nothing connects until first use), so a store that is down at start-up
makes the guards that need it deny with a reason, and they recover when it is back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from mcp_bastion.audit.log import AuditLog
from mcp_bastion.audit.signing import CheckpointSigner
from mcp_bastion.config import BastionConfig
from mcp_bastion.errors import BastionError
from mcp_bastion.pipeline.chain import GuardStores
from mcp_bastion.store.factory import Stores, open_stores

__all__ = ["AUDIT_LINGER_S", "OpenStores", "open_gateway_stores"]

AUDIT_LINGER_S = 0.02

logger = logging.getLogger(__name__)


@dataclass
class OpenStores:
    """The stores of one running gateway, and the audit log on its audit store."""

    stores: Stores
    audit_log: AuditLog

    @property
    def guard_stores(self) -> GuardStores:
        s = self.stores
        return GuardStores(rate_limits=s.rate_limits, pins=s.pins, state=s.state, approvals=s.approvals)

    async def final_checkpoint(self) -> None:
        """A signed checkpoint at shutdown: covers the tail written since the last periodic one."""
        if self.audit_log.signer is None:
            return
        try:
            await self.audit_log.checkpoint()
        except BastionError as exc:
            logger.warning("final audit checkpoint failed: %s", type(exc).__name__)

    async def aclose(self) -> None:
        await self.audit_log.close()
        await self.stores.aclose()


def open_gateway_stores(config: BastionConfig) -> OpenStores:
    """Open every store kind at its configured URL (SQLite parent directories are created)."""
    urls = config.stores
    for url in (urls.pins, urls.approvals, urls.state, urls.rate_limits, urls.audit):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    stores = open_stores(
        {
            "pins": urls.pins,
            "approvals": urls.approvals,
            "state": urls.state,
            "rate_limits": urls.rate_limits,
            "audit": urls.audit,
        }
    )
    sealing = config.audit_log
    signer = CheckpointSigner.from_file(sealing.signing_key_file) if sealing.signing_key_file else None
    # Non-durable records wait up to `linger` to share one commit (durable ones flush at
    # once): fewer writer-thread wake-ups on the request path.
    log = AuditLog(
        stores.audit,
        signer=signer,
        checkpoint_every=sealing.checkpoint_every,
        witness=sealing.witness_file,
        linger=AUDIT_LINGER_S,
    )
    return OpenStores(stores=stores, audit_log=log)
