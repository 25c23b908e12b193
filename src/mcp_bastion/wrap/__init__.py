"""``bastion wrap``: the full guard chain around one stdio server, stdio in and stdio out."""

from mcp_bastion.wrap.run import run_wrap, wrap_config

__all__ = ["run_wrap", "wrap_config"]
