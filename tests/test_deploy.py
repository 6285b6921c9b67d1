"""deploy/compose.yaml and its Caddyfile: the team deployment that docs/REMOTE.md describes.

No Docker engine runs here; the test parses the compose file and checks that the two replicas share one
PostgreSQL database and one secret key, run remote mode statelessly, and that their command line is one
`wrike-mcp` accepts (the image's ENTRYPOINT plus the service's command).
"""

from __future__ import annotations

import itertools
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from wrike_mcp.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
REPLICAS = ("wrike-mcp-a", "wrike-mcp-b")


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, Any]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def words(value: str | list[str] | None) -> list[str]:
    """A compose command/entrypoint as words (the shell form is split like a shell would)."""
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(word) for word in value]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def dockerfile_entrypoint() -> list[str]:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    (entrypoint,) = [line for line in lines if line.upper().startswith("ENTRYPOINT ")]
    parsed = json.loads(entrypoint.partition(" ")[2])
    assert isinstance(parsed, list), "the Dockerfile's ENTRYPOINT should be exec form"
    return [str(word) for word in parsed]


def argv(service: dict[str, Any]) -> list[str]:
    """What the container runs: the entrypoint (the service's, else the image's) and the command."""
    entrypoint = words(service["entrypoint"]) if "entrypoint" in service else dockerfile_entrypoint()
    full = entrypoint + words(service.get("command"))
    return full[1:] if full[:1] == ["wrike-mcp"] else full


def has_option(args: list[str], flag: str, value: str | None = None) -> bool:
    if value is None:
        return flag in args
    return f"{flag}={value}" in args or (flag, value) in itertools.pairwise(args)


def option_value(args: list[str], flag: str, default: str) -> str:
    for current, following in itertools.pairwise(args):
        if current == flag:
            return following
    return next((arg.partition("=")[2] for arg in args if arg.startswith(f"{flag}=")), default)


def test_services_exist() -> None:
    assert {"postgres", *REPLICAS, "proxy"} <= set(services())


def test_postgres_has_a_volume_and_a_healthcheck() -> None:
    postgres = services()["postgres"]
    assert str(postgres["image"]).startswith("postgres:")
    assert any(str(volume).endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert "pg_isready" in " ".join(words(postgres["healthcheck"]["test"]))


def test_replicas_share_database_and_secret_key() -> None:
    envs = [environment(services()[name]) for name in REPLICAS]
    for name in ("WRIKE_MCP_DATABASE_URL", "WRIKE_MCP_SECRET_KEY", "WRIKE_MCP_PUBLIC_URL"):
        values = {env.get(name) for env in envs}
        assert len(values) == 1 and None not in values, f"replicas differ on {name}: {values}"
    url = envs[0]["WRIKE_MCP_DATABASE_URL"]
    assert url.startswith("postgresql://"), url
    assert "@postgres:" in url, "the database should be the compose postgres service"
    assert envs[0]["WRIKE_MCP_SECRET_KEY"].startswith("${WRIKE_MCP_SECRET_KEY:?")
    assert envs[0]["WRIKE_MCP_PUBLIC_URL"].startswith("https://")


@pytest.mark.parametrize("name", REPLICAS)
def test_replica_runs_remote_mode_stateless(name: str) -> None:
    service = services()[name]
    args = argv(service)
    assert args[:1] == ["serve"], args
    assert has_option(args, "--auth", "oauth"), args
    assert has_option(args, "--stateless"), args
    assert has_option(args, "--transport", "http"), args
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", REPLICAS)
def test_replica_command_parses(name: str) -> None:
    args = argv(services()[name])
    try:
        parsed = build_parser().parse_args(args)
    except SystemExit as exc:
        pytest.fail(f"wrike-mcp rejects {shlex.join(args)!r} (exit {exc.code})")
    assert parsed.command == "serve"
    assert parsed.transport == "http"
    assert parsed.host == "0.0.0.0"
    assert parsed.stateless is True
    assert parsed.auth == "oauth"


def test_proxy_config_exists_and_balances_both_replicas() -> None:
    proxy = services()["proxy"]
    mounts = [str(volume).split(":") for volume in proxy["volumes"]]
    local = [DEPLOY / parts[0] for parts in mounts if parts[0].startswith(".")]
    assert local, "the proxy should mount its config from the deploy directory"
    for path in local:
        assert path.exists(), f"{path} is referenced by the proxy but missing"
    caddyfile = next(path for path in local if path.name == "Caddyfile").read_text()
    for name in REPLICAS:
        port = option_value(argv(services()[name]), "--port", "8000")
        assert f"{name}:{port}" in caddyfile, f"Caddyfile does not proxy to {name}:{port}"
    assert "lb_policy round_robin" in caddyfile
    assert "{$WRIKE_MCP_DOMAIN}" in caddyfile
    assert "WRIKE_MCP_DOMAIN" in environment(proxy)
