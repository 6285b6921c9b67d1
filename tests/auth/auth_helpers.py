"""Shared constants of the auth tests (a unique module name: test dirs are not packages)."""

CANARY_ACCESS = "canary-access-7f3a9c"
CANARY_REFRESH = "canary-refresh-b81e44"
CANARY_SECRET = "canary-client-secret-5d20aa"
