"""The shipping files say what CI exercises: Dockerfile, client configs, .env.example, Makefile, CI, scripts.

No Docker engine or MCP client runs here; these tests parse the files and check that every command line
they contain is one `wrike-mcp` accepts, every environment variable is a real setting, and the install
and entry point are the ones `make inspect` / `make conformance` drive.
"""

from __future__ import annotations

import http.server
import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.shipping_helpers import parse_cli, setting_env_names
from wrike_mcp.auth.oauth import api_base_url
from wrike_mcp.config import Settings

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SANDBOX_HTTP_URL = "http://127.0.0.1:8000/mcp"


# --- helpers -------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    pairs = []
    for line in logical:
        keyword, _, rest = line.strip().partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def instruction(name: str) -> list[str]:
    return [rest for keyword, rest in dockerfile_instructions() if keyword == name]


def exec_form(name: str) -> list[str]:
    values = instruction(name)
    assert len(values) == 1, f"expected one {name} in the Dockerfile, found {len(values)}"
    parsed = json.loads(values[0])
    assert isinstance(parsed, list) and all(isinstance(item, str) for item in parsed), (
        f"{name} is not exec form"
    )
    return parsed


def healthcheck_code() -> str:
    (value,) = instruction("HEALTHCHECK")
    cmd = json.loads(value[value.index("CMD") + 3 :].strip())
    assert cmd[:2] == ["python", "-c"], "HEALTHCHECK should run python -c (slim images have no curl)"
    return str(cmd[2])


def load_json(name: str) -> dict[str, Any]:
    data = json.loads((CONFIGS / name).read_text())
    assert isinstance(data, dict)
    return data


def dotenv_pairs(path: Path) -> list[tuple[str, str, bool]]:
    """(KEY, value, commented_out) for KEY=value lines, including `#KEY=value` examples."""
    pairs = []
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"(#?)([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            pairs.append((match.group(2), match.group(3), bool(match.group(1))))
    return pairs


def check_server_entry(name: str, entry: dict[str, Any]) -> None:
    env_names = setting_env_names()
    if "url" in entry:
        assert entry["url"] == SANDBOX_HTTP_URL, f"{name}: url should be `make run`'s {SANDBOX_HTTP_URL}"
        return
    assert entry["command"] == "wrike-mcp", f"{name}: command should be wrike-mcp"
    args = entry.get("args", [])
    assert args[:1] == ["serve"], f"{name}: args should start with serve"
    parsed = parse_cli(args)
    assert parsed.command == "serve"
    assert parsed.transport == "stdio", f"{name}: clients spawn the stdio transport"
    unknown = set(entry.get("env", {})) - env_names
    assert not unknown, f"{name}: env vars that are not wrike-mcp settings: {sorted(unknown)}"
    if not parsed.sandbox:
        assert "WRIKE_ACCESS_TOKEN" in entry.get("env", {}), f"{name}: a real-account entry needs a token"


# --- Dockerfile ----------------------------------------------------------------------------------------


def test_dockerfile_base_image_is_python_311_slim() -> None:
    (base,) = instruction("FROM")
    assert base.split()[0] == "python:3.11-slim"


def test_dockerfile_installs_the_package_with_pip_install_dot() -> None:
    runs = " && ".join(instruction("RUN"))
    assert re.search(r"\bpip install \.(\s|$)", runs), (
        "the image must install the package with `pip install .`"
    )
    copied = " ".join(instruction("COPY"))
    for needed in ("pyproject.toml", "README.md", "src"):
        assert needed in copied, f"the Dockerfile does not COPY {needed}, which `pip install .` needs"


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = instruction("USER")
    assert users, "no USER: the image would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    # the USER comes after every RUN (installing as root, running as the user)
    keywords = [keyword for keyword, _ in dockerfile_instructions()]
    assert max(i for i, k in enumerate(keywords) if k == "RUN") < keywords.index("USER")


def test_dockerfile_entrypoint_is_the_console_script_serving_stdio() -> None:
    entrypoint = exec_form("ENTRYPOINT")
    assert entrypoint == ["wrike-mcp", "serve"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint[0] in scripts, "ENTRYPOINT must be the console script pip installs"
    default = parse_cli(entrypoint[1:] + exec_form("CMD"))
    assert default.command == "serve" and default.transport == "stdio"


def test_dockerfile_http_flags_parse_and_bind_all_interfaces() -> None:
    entrypoint = exec_form("ENTRYPOINT")
    parsed = parse_cli([*entrypoint[1:], "--transport", "http", "--host", "0.0.0.0", "--port", "8000"])
    assert (parsed.transport, parsed.host, parsed.port) == ("http", "0.0.0.0", 8000)
    assert instruction("EXPOSE") == ["8000"]


DOCKER_OPTIONS_WITH_VALUE = {"-p", "-e", "-v", "--entrypoint", "--env-file", "--name", "--publish", "--env"}


def split_docker_run(words: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """`docker run [options] IMAGE [args]` -> ({option: [values]}, [IMAGE, *args])."""
    options: dict[str, list[str]] = {}
    rest = words[2:]
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        value = rest.pop(0) if option in DOCKER_OPTIONS_WITH_VALUE else ""
        options.setdefault(option, []).append(value)
    return options, rest


def test_dockerfile_documented_docker_run_commands_parse() -> None:
    """Every `docker run ... wrike-mcp [args]` example in the Dockerfile's comments is valid."""
    entrypoint = exec_form("ENTRYPOINT")
    examples = [
        line.lstrip("# ").split(" #")[0]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.lstrip("# ").startswith("docker run")
    ]
    assert len(examples) >= 3
    for example in examples:
        options, (image, *args) = split_docker_run(shlex.split(example))
        assert image == "wrike-mcp", f"{example!r}: the image is built as wrike-mcp"
        command = options["--entrypoint"] + args if "--entrypoint" in options else entrypoint + args
        assert command[0] == "wrike-mcp"
        parsed = parse_cli(command[1:])
        for value in options.get("-e", []):
            assert value in setting_env_names(), f"{example!r}: {value} is not a wrike-mcp setting"
        for volume in options.get("-v", []):
            assert volume.endswith(":/home/wrike/.wrike-mcp"), (
                f"{example!r}: tokens live in /home/wrike/.wrike-mcp"
            )
        if getattr(parsed, "transport", "stdio") == "http":
            assert any(p.startswith("127.0.0.1:") for p in options.get("-p", [])), (
                f"{example!r}: publish the unprotected HTTP port on loopback only"
            )
        elif args[:2] == ["auth", "login"]:
            assert "-it" in options, f"{example!r}: the login prompts on a terminal: docker run -it"
        else:
            assert "-i" in options, f"{example!r}: stdio needs docker run -i"


def test_dockerfile_token_store_is_a_writable_directory_of_the_user() -> None:
    runs = " ".join(instruction("RUN"))
    assert "install -d -m 0700 -o wrike -g wrike /home/wrike/.wrike-mcp" in runs
    envs = " ".join(instruction("ENV"))
    assert "WRIKE_MCP_TOKEN_STORE=/home/wrike/.wrike-mcp/" in envs
    assert instruction("USER") == ["wrike"]


def test_dockerignore_keeps_the_build_context_small_and_secret_free() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for must_ignore in (".git", ".venv", ".node22", ".env", "tests"):
        assert must_ignore in ignored, f".dockerignore should exclude {must_ignore}"
    for needed in ("pyproject.toml", "README.md", "src"):
        assert needed not in ignored, f".dockerignore excludes {needed}, which the build needs"


@pytest.fixture
def http_port() -> Iterator[int]:
    """A plain HTTP server that answers 400, like the MCP endpoint does to a GET without a session."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(400)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def run_healthcheck(cmdline: list[str]) -> int:
    """Run the HEALTHCHECK code with /proc/1/cmdline replaced by `cmdline`."""
    fake = "\0".join(cmdline) + "\0"
    wrapper = (
        "import builtins, io, sys\n"
        "real = builtins.open\n"
        f"fake = {fake.encode()!r}\n"
        "builtins.open = lambda p, *a, **k: (\n"
        "    io.BytesIO(fake) if p == '/proc/1/cmdline' else real(p, *a, **k))\n"
        "exec(sys.argv[1])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, healthcheck_code()], capture_output=True, timeout=60, check=False
    )
    return result.returncode


def test_healthcheck_passes_when_the_http_port_answers(http_port: int) -> None:
    argv = ["/usr/local/bin/python3.11", "/usr/local/bin/wrike-mcp", "serve", "--transport", "http"]
    assert run_healthcheck([*argv, "--host", "0.0.0.0", "--port", str(http_port)]) == 0


def test_healthcheck_fails_when_nothing_listens() -> None:
    argv = ["/usr/local/bin/python3.11", "/usr/local/bin/wrike-mcp", "serve", "--transport=http"]
    # a port that was free a moment ago: bind and close
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    assert run_healthcheck([*argv, f"--port={free}"]) != 0


def test_healthcheck_is_healthy_for_stdio() -> None:
    argv = ["/usr/local/bin/python3.11", "/usr/local/bin/wrike-mcp", "serve", "--sandbox"]
    assert run_healthcheck(argv) == 0


# --- client configs --------------------------------------------------------------------------------------


def test_claude_desktop_config() -> None:
    servers = load_json("claude_desktop_config.json")["mcpServers"]
    assert {"wrike", "wrike-sandbox"} <= set(servers)
    for name, entry in servers.items():
        assert "url" not in entry, "Claude Desktop's config file only spawns stdio servers"
        check_server_entry(name, entry)


def test_vscode_config_uses_servers_and_declares_its_inputs() -> None:
    config = load_json("vscode-mcp.json")
    assert "mcpServers" not in config, ".vscode/mcp.json uses the `servers` key"
    declared = {item["id"] for item in config.get("inputs", [])}
    for item in config.get("inputs", []):
        assert item["type"] == "promptString"
        assert item.get("password") is True, "tokens are entered as passwords"
    servers = config["servers"]
    assert {"wrike", "wrike-sandbox", "wrike-http"} <= set(servers)
    for name, entry in servers.items():
        assert entry["type"] in {"stdio", "http"}
        assert ("url" in entry) == (entry["type"] == "http")
        check_server_entry(name, entry)
        for value in entry.get("env", {}).values():
            for ref in re.findall(r"\$\{input:([^}]+)\}", value):
                assert ref in declared, f"{name}: ${{input:{ref}}} is not declared in inputs"


def test_cursor_config() -> None:
    servers = load_json("cursor-mcp.json")["mcpServers"]
    assert {"wrike", "wrike-sandbox", "wrike-http"} <= set(servers)
    for name, entry in servers.items():
        check_server_entry(name, entry)
        for value in entry.get("env", {}).values():
            for ref in re.findall(r"\$\{env:([^}]+)\}", value):
                assert ref in setting_env_names()


def test_configs_hold_no_real_secret() -> None:
    for path in CONFIGS.glob("*.json"):
        for key, value in re.findall(r'"(WRIKE_[A-Z_]*(?:TOKEN|SECRET))"\s*:\s*"([^"]*)"', path.read_text()):
            assert value.startswith("${") or "paste" in value or not value, f"{path.name}: {key} looks real"


def test_env_example_names_real_settings_and_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = dotenv_pairs(CONFIGS / ".env.example")
    assert pairs, "no KEY=value lines in .env.example"
    unknown = {key for key, _, _ in pairs} - setting_env_names()
    assert not unknown, f".env.example shows variables wrike-mcp does not read: {sorted(unknown)}"
    assert "WRIKE_ACCESS_TOKEN" in {key for key, _, _ in pairs}
    for key in setting_env_names():
        monkeypatch.delenv(key, raising=False)
    for key, value, _ in pairs:
        if value:
            monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.access_token is None  # the example carries no token
    assert api_base_url(settings, settings.host) == "https://www.wrike.com/api/v4"


# --- Makefile, CI, scripts -------------------------------------------------------------------------------


def make_rules() -> dict[str, str]:
    rules = {}
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.$()-]+):(?!=)(.*)$", line)
        if match:
            rules[match.group(1)] = match.group(2)
    return rules


@pytest.mark.parametrize("target", ["test", "check", "lint", "typecheck", "run", "inspect", "conformance"])
def test_make_targets_exist_and_install_first(target: str) -> None:
    rules = make_rules()
    assert target in rules, f"no `make {target}`"
    if target in {"test", "lint", "typecheck", "run", "inspect", "conformance"}:
        assert "$(STAMP)" in rules[target], f"`make {target}` must depend on the install stamp (fresh clone)"


def test_ci_runs_check_then_inspect_then_conformance() -> None:
    text = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in text
    steps = re.findall(r"^\s*(?:step\s+)?make (\w+)", text, re.M)
    assert steps == ["check", "inspect", "conformance"]


def test_scripts_pin_the_same_client_versions() -> None:
    pins = set()
    for path in [*(ROOT / "scripts").glob("*.sh"), ROOT / "Makefile"]:
        pins |= set(re.findall(r"@modelcontextprotocol/(?:inspector|conformance)@[\w.-]+", path.read_text()))
    assert pins == {"@modelcontextprotocol/inspector@2.12.0", "@modelcontextprotocol/conformance@0.1.16"}


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "scripts").glob("*.sh")))
def test_scripts_are_valid_bash(script: str) -> None:
    result = subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_make_run_serves_the_sandbox_over_http() -> None:
    """The command scripts/run.sh execs, with make's defaults, is a valid `wrike-mcp serve`."""
    text = (ROOT / "scripts" / "run.sh").read_text()
    (line,) = [line for line in text.splitlines() if line.startswith("exec ")]
    words = shlex.split(line.replace('"$WRIKE_MCP"', "wrike-mcp").replace("$RUN_FLAGS", "--sandbox"))
    words = [w.replace("$PORT", "8000") for w in words]
    parsed = parse_cli(words[words.index("wrike-mcp") + 1 :])
    assert (parsed.sandbox, parsed.transport, parsed.host, parsed.port) == (True, "http", "127.0.0.1", 8000)


MUST_PASS = {
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
    "completion-complete",
    "logging-set-level",
}


def test_conformance_baseline_lists_only_fixture_scenarios_with_reasons() -> None:
    lines = (ROOT / "conformance" / "expected-failures.yml").read_text().splitlines()
    entries = [line for line in lines if re.match(r"^\s+-\s", line)]
    names = [re.match(r"^\s+-\s+([\w-]+)", line).group(1) for line in entries]  # type: ignore[union-attr]
    assert names, "empty baseline"
    assert len(names) == len(set(names)), "duplicate entries"
    assert not MUST_PASS & set(names), f"these must pass, not be baselined: {sorted(MUST_PASS & set(names))}"
    for line in entries:
        assert "#" in line, f"baseline entry without a reason: {line.strip()}"
    assert any(line.strip() == "server:" for line in lines)
