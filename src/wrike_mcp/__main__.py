from wrike_mcp.cli import main

raise SystemExit(main())
