"""wrike-mcp: an MCP server for Wrike, with a Wrike API v4 client and a Wrike emulator."""

from wrike_mcp.config import Settings

__all__ = ["Settings", "__version__"]
__version__ = "0.1.0"
