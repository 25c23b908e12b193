"""``python -m mcp_bastion``: the ``bastion`` CLI."""

from mcp_bastion.cli.main import app

app(prog_name="bastion")
