"""gridops: the Grid Operations Assistant built on mcp_bastion.

An MCP server over a real pandapower distribution grid and its database, and the LLM
host that uses it. Imports mcp_bastion; never the reverse.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
