"""Transports: move MCP messages between peers through the SDK's streams; no policy here."""
