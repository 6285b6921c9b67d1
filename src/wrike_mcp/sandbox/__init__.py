"""A faithful Wrike API v4 emulator with seed data, OAuth and fault injection. Imports nothing else
from wrike_mcp."""

from wrike_mcp.sandbox.app import create_app
from wrike_mcp.sandbox.config import SandboxConfig
from wrike_mcp.sandbox.state import SandboxState

__all__ = ["SandboxConfig", "SandboxState", "create_app"]
