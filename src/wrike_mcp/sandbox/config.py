"""Settings of one sandbox instance."""

from __future__ import annotations

from dataclasses import dataclass

from wrike_mcp.sandbox.plans import ENTERPRISE, PLANS


@dataclass(frozen=True)
class SandboxConfig:
    token_ttl: int = 3600  # OAuth access-token lifetime in seconds (Wrike: 3600)
    rate_limit: int = 400  # requests per token per sliding 60-second window (Wrike: 400/min)
    code_ttl: int = 600  # authorization-code lifetime in seconds (10 minutes, as reported for Wrike)
    # The largest upload: Wrike documents no limit for the API, so the sandbox picks one to keep its memory
    # bounded and to let clients meet the refusal [assumption].
    max_attachment_bytes: int = 100 * 1024 * 1024
    plan: str = ENTERPRISE  # the account's Wrike plan: "enterprise" (everything) or "team" (see plans.py)

    def __post_init__(self) -> None:
        if self.plan not in PLANS:
            raise ValueError(f"unknown sandbox plan {self.plan!r}: use one of {', '.join(PLANS)}")
