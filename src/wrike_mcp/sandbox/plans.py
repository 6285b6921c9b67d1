"""What the account's Wrike plan withholds (`wrike-mcp sandbox --plan team`).

Real Wrike answers an operation the plan or licence does not include with HTTP 403 `not_allowed` (seen live
for time logs, the account-wide comment list and user types); Wrike's OpenAPI description marks the task
`status` parameter "Not available for the Team plan". The default plan, Enterprise, withholds nothing.
The descriptions below are the sandbox's own words: Wrike's were not recorded.
"""

from __future__ import annotations

from wrike_mcp.sandbox.errors import wrike_error

ENTERPRISE = "enterprise"
TEAM = "team"
PLANS = (ENTERPRISE, TEAM)
SUBSCRIPTION_TYPES = {ENTERPRISE: "Enterprise", TEAM: "Team"}

# (method, route path as declared) → why the Team plan refuses it
TEAM_WITHHELD_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/tasks/{taskId}/timelogs"): "Time tracking is not available for the Team plan",
    ("GET", "/comments"): "Account-wide comment lists are not available for the Team plan",
}
TEAM_WITHHELD_TASK_STATUS = (
    "Parameter 'status' is not available for the Team plan: set 'customStatus' to a custom status ID"
)


def check_route(plan: str, method: str, path: str) -> None:
    """403 not_allowed when the plan does not include this API method."""
    if plan == TEAM and (method, path) in TEAM_WITHHELD_ROUTES:
        raise wrike_error("not_allowed", TEAM_WITHHELD_ROUTES[(method, path)])


def check_task_status_parameter(plan: str, sent: bool) -> None:
    """403 not_allowed for `status` on task create/update under the Team plan (`customStatus` is fine)."""
    if plan == TEAM and sent:
        raise wrike_error("not_allowed", TEAM_WITHHELD_TASK_STATUS)
