"""mcp-bastion: one guard pipeline at every MCP trust boundary.

See ``ARCHITECTURE.md`` (shared with the project) for the layer map. This package must
never import :mod:`gridops`; a test walks the imports and fails if it does.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
