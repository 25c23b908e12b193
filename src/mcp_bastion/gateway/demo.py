"""``bastion demo``: the gateway with the Grid Ops server behind it, on embedded SQLite.

What ``make up`` runs. On first use it writes ``DATA/bastion.yaml`` (an ordinary config
file you can edit afterwards): an HTTP listener on 127.0.0.1, development JWTs signed by a
local Ed25519 key (``DATA/token.key``, 0600; the gateway verifies with ``token.key.pub``),
audit checkpoints signed by ``DATA/audit.key``,
one upstream ``gridops`` started in the sandbox (``bastion gridops serve --transport
stdio``) with write access only to ``DATA/gridops``, and the gateway's stores in
``DATA/bastion.db``. It never prints a token: it prints the command that mints one.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from mcp_bastion.audit.signing import generate_key
from mcp_bastion.config import DEFAULT_GUARD_ORDER, load_config
from mcp_bastion.gateway.serve import serve_gateway
from mcp_bastion.pipeline.identity import ensure_signing_key

__all__ = ["demo_config_text", "run_demo"]


def _bastion_executable() -> str:
    found = shutil.which("bastion")
    return found or str(Path(sys.executable).with_name("bastion"))


# simulate_switching hands the operator a single-use simulation token on purpose.
_GUARD_SETTINGS = {"output": "    credential_tools: [gridops.simulate_switching]\n"}


def _guards_yaml() -> str:
    """The default guard order, with the demo's one override."""
    return "".join(f"  - name: {name}\n{_GUARD_SETTINGS.get(name, '')}" for name in DEFAULT_GUARD_ORDER)


def demo_config_text(data: Path, *, port: int, bastion: str) -> str:
    """The demo's bastion.yaml (absolute paths, so it works from any directory)."""
    grid = data / "gridops"
    guards = _guards_yaml()
    return f"""# Written by `bastion demo` (make up). Edit freely; docs/configuration.md has every field.
version: 1
listeners:
  http:
    host: 127.0.0.1
    port: {port}
identities:
  jwt:
    issuer: bastion-dev
    ed25519_public_key_file: "{data}/token.key.pub"
token:
  key_file: "{data}/token.key"
  issuer: bastion-dev
audit_log:
  signing_key_file: "{data}/audit.key"   # verify with: bastion audit verify --pubkey {data}/audit.key.pub
upstreams:
  gridops:
    description: Grid Operations server (pandapower mv_oberrhein on SQLite)
    command: ["{bastion}", gridops, serve, --transport, stdio,
              --db, "sqlite:///{grid}/gridops.db", --identity, supervisor, --data-dir, "{grid}"]
    sandbox:
      write_paths: ["{grid}"]
      cpu_seconds: 86400     # a CPU budget for the process lifetime: power flows add up
      memory_mb: 2048
    timeout_s: 120
guards:                      # the default chain, in order (docs/configuration.md)
{guards}stores:
  pins: "sqlite:///{data}/bastion.db"
  approvals: "sqlite:///{data}/bastion.db"
  audit: "sqlite:///{data}/bastion.db"
"""


def run_demo(data: Path, *, port: int = 8765, announce: Callable[[str], None] = print) -> None:
    """Write the demo config on first use, make sure the signing key exists, serve."""
    data = data.resolve()
    (data / "gridops").mkdir(parents=True, exist_ok=True)
    config_file = data / "bastion.yaml"
    if not config_file.exists():
        config_file.write_text(
            demo_config_text(data, port=port, bastion=_bastion_executable()), encoding="utf-8"
        )
        announce(f"wrote {config_file}")
    config = load_config(config_file)
    if config.token is not None:
        ensure_signing_key(config.token)
    audit_key = config.audit_log.signing_key_file
    if audit_key is not None and not audit_key.exists():
        generate_key(audit_key)
    announce("mint a development token (operator role):")
    announce(f"  TOKEN=$(bastion token create --config {config_file} --role operator)")
    announce("then call a tool through the gateway:")
    if config.listeners.http is not None:
        url = config.listeners.http.resource_uri
        announce(f'  bastion call {url} gridops.get_asset asset_id=bus:1 --token "$TOKEN"')
    serve_gateway(config_file, announce=announce)
