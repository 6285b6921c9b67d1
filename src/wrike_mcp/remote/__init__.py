"""Remote mode: multi-user HTTP, wrike-mcp's own OAuth in front of Wrike's (docs/REMOTE.md); `app.build_remote_server`."""
