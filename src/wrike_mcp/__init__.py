"""wrike-mcp: an MCP server for Wrike, with a Wrike API v4 client and a Wrike emulator."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wrike_mcp.config import Settings

__all__ = ["Settings", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Settings pulls in pydantic-settings: loaded on first use, so importing the sandbox or the client stays light
    if name == "Settings":
        from wrike_mcp.config import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
