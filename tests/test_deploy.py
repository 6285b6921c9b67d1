"""deploy/compose.yaml and its Caddyfile: the team deployment that docs/REMOTE.md describes.

No Docker engine runs here; the test parses the compose file and checks that the two replicas share one
PostgreSQL database and one secret key, run remote mode statelessly, that their command line is one
`wrike-mcp` accepts (the image's ENTRYPOINT plus the service's command), and that their healthcheck (run
here against a stand-in) and the proxy's probe use /readyz within the replica's readiness timeout.
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
import shlex
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import uvicorn
import yaml

from wrike_mcp.cli import build_parser
from wrike_mcp.remote.health import READY_TIMEOUT

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


# ---- health checks ----------------------------------------------------------------------------------------


class Probed(BaseHTTPRequestHandler):
    """A stand-in replica for the healthcheck command: /readyz answers the status the test sets."""

    status = 200
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Probed.paths.append(self.path)
        code = Probed.status if self.path == "/readyz" else 404
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def seconds(duration: str) -> float:
    assert duration.endswith("s") and duration[:-1].isdigit(), f"expected a duration like 5s: {duration}"
    return float(duration[:-1])


@pytest.mark.parametrize("name", REPLICAS)
def test_replica_healthcheck_probes_readyz_within_its_timeouts(name: str) -> None:
    healthcheck = services()[name]["healthcheck"]
    test = words(healthcheck["test"])
    assert test[:2] == ["CMD", "python"], "the image has Python and no curl: exec form, no shell"
    port = option_value(argv(services()[name]), "--port", "8000")
    assert f"'127.0.0.1', {port}," in test[-1] and "'/readyz'" in test[-1], test
    # the replica answers 503 within READY_TIMEOUT, the probe waits longer than that, Docker longer still
    probe_timeout = float(re.search(r"timeout=(\d+)", test[-1]).group(1))  # type: ignore[union-attr]
    assert READY_TIMEOUT < probe_timeout < seconds(healthcheck["timeout"])
    assert seconds(healthcheck["interval"]) >= seconds(healthcheck["timeout"])
    assert int(healthcheck["retries"]) >= 2 and seconds(healthcheck["start_period"]) >= 10


def test_healthcheck_command_passes_only_on_200() -> None:
    """Run the compose healthcheck command itself (with this Python) against a stand-in on a free port."""
    test = words(services()[REPLICAS[0]]["healthcheck"]["test"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Probed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    command = test[-1].replace("'127.0.0.1', 8000,", f"'127.0.0.1', {port},")

    def exit_code() -> int:
        return subprocess.run([sys.executable, "-c", command], timeout=30, check=False).returncode

    try:
        Probed.status = 200
        assert exit_code() == 0
        Probed.status = 503
        assert exit_code() != 0
        assert set(Probed.paths) == {"/readyz"}
    finally:
        server.shutdown()
        server.server_close()
    assert exit_code() != 0  # nothing listening: unhealthy, not an error of the check


def test_proxy_sends_traffic_only_to_ready_replicas() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert re.search(r"^\s*health_uri /readyz$", caddyfile, re.MULTILINE), caddyfile
    timeout = re.search(r"^\s*health_timeout (\d+s)$", caddyfile, re.MULTILINE)
    assert timeout and seconds(timeout.group(1)) > READY_TIMEOUT, "the proxy must wait for a 503"


def test_proxy_closes_idle_connections_before_the_replicas_do() -> None:
    """Otherwise the proxy now and then sends a request on a connection the replica is closing: a 502."""
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    keepalive = re.search(r"^\s*keepalive (\d+s)$", caddyfile, re.MULTILINE)
    assert keepalive, "the Caddyfile should set the upstream keepalive"
    replica_keepalive = inspect.signature(uvicorn.Config).parameters["timeout_keep_alive"].default
    assert seconds(keepalive.group(1)) < replica_keepalive
