"""Every install path the README shows, exercised where a machine can: the registry entry validated against the
registry's schema, the install links decoded and parsed, the wheel installed into a fresh venv and run, the
MCP Bundle built with the official CLI, unpacked into an empty folder and started from its own contents."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema
import pytest
from mcp import Client, StdioServerParameters

from tests.shipping_helpers import ROOT, parse_cli, setting_env_names
from wrike_mcp import __version__
from wrike_mcp.tools.registry import OFF_BY_DEFAULT, all_tools

SERVER_JSON = ROOT / "server.json"
REGISTRY_SCHEMA = ROOT / "tests" / "data" / "mcp-registry-server-2025-12-11.schema.json"
README = (ROOT / "README.md").read_text()
SERVER_NAME = "io.github.wrike-mcp/wrike-mcp"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def check_stdio_command(command: str, args: list[str], env: dict[str, str], where: str) -> None:
    """A client config that runs the published package: `uvx wrike-mcp serve` with real settings only."""
    assert (command, args[:1]) == ("uvx", ["wrike-mcp"]), f"{where}: expected `uvx wrike-mcp ...`"
    parsed = parse_cli(args[1:])
    assert (parsed.command, parsed.transport) == ("serve", "stdio"), where
    unknown = set(env) - setting_env_names()
    assert not unknown, f"{where}: env vars that are not wrike-mcp settings: {sorted(unknown)}"
    assert "WRIKE_ACCESS_TOKEN" in env, f"{where}: no way to give the token"


# --- MCP Registry -------------------------------------------------------------------------------------


def test_server_json_is_valid_against_the_registrys_published_schema() -> None:
    schema = load(REGISTRY_SCHEMA)
    entry = load(SERVER_JSON)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    problems = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(entry)
    ]
    assert problems == []
    assert entry["$schema"] == schema["$id"]
    declared = set(schema["definitions"]["ServerDetail"]["properties"])
    assert set(entry) <= declared, f"fields the registry does not know: {set(entry) - declared}"


def test_server_json_names_this_package_at_its_version() -> None:
    entry = load(SERVER_JSON)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert entry["name"] == SERVER_NAME
    assert entry["version"] == pyproject["version"] == __version__
    packages = {package["registryType"]: package for package in entry["packages"]}
    assert (packages["pypi"]["identifier"], packages["pypi"]["version"]) == (pyproject["name"], __version__)
    assert packages["oci"]["identifier"].endswith(f"/wrike-mcp:{__version__}")
    # The registry proves ownership through these: the PyPI README and the image label name the server.
    assert f"mcp-name: {SERVER_NAME}" in README
    assert f'LABEL io.modelcontextprotocol.server.name="{SERVER_NAME}"' in (ROOT / "Dockerfile").read_text()


def test_server_json_packages_pass_only_real_settings_and_arguments() -> None:
    entry = load(SERVER_JSON)
    for package in entry["packages"]:
        names = {variable["name"] for variable in package["environmentVariables"]}
        assert names <= setting_env_names(), package["registryType"]
        secrets = {
            variable["name"] for variable in package["environmentVariables"] if variable.get("isSecret")
        }
        assert secrets == {"WRIKE_ACCESS_TOKEN"}, package["registryType"]
    pypi = next(package for package in entry["packages"] if package["registryType"] == "pypi")
    assert parse_cli([argument["value"] for argument in pypi["packageArguments"]]).command == "serve"
    remote = entry["remotes"][0]
    assert (remote["type"], remote["url"]) == ("streamable-http", "https://{deployment_host}/mcp")


# --- install links and commands in the README ------------------------------------------------------------


def readme_link(prefix: str) -> str:
    found = re.findall(rf"\(({re.escape(prefix)}[^)\s]+)\)", README)
    assert len(found) == 1, f"expected one {prefix} link in the README, found {len(found)}"
    return str(found[0])


def test_vscode_install_link_and_command_carry_the_same_config() -> None:
    redirect = urlsplit(readme_link("https://insiders.vscode.dev/redirect?url="))
    vscode_url = parse_qs(redirect.query)["url"][0]
    assert vscode_url.startswith("vscode:mcp/install?")
    config = json.loads(unquote(vscode_url.removeprefix("vscode:mcp/install?")))
    command_line = re.search(r"^\s*code --add-mcp (.+)$", README, re.MULTILINE)
    assert command_line is not None
    words = shlex.split(command_line.group(1))
    assert json.loads(words[0]) == config
    check_stdio_command(config["command"], config["args"], config["env"], "VS Code link")
    # The token is asked for once, as a password, and never written into the link.
    inputs = {item["id"]: item for item in config["inputs"]}
    assert config["env"]["WRIKE_ACCESS_TOKEN"] == "${input:wrike_access_token}"
    assert inputs["wrike_access_token"]["password"] is True


def test_cursor_deeplink_decodes_to_a_server_config() -> None:
    link = urlsplit(readme_link("cursor://anysphere.cursor-deeplink/mcp/install?"))
    query = parse_qs(link.query)
    assert query["name"] == ["wrike"]
    config = json.loads(base64.b64decode(query["config"][0]))
    check_stdio_command(config["command"], config["args"], config["env"], "Cursor link")


def test_claude_code_and_uvx_commands_parse() -> None:
    line = re.search(r"^\s*(claude mcp add .+)$", README, re.MULTILINE)
    assert line is not None
    words = shlex.split(line.group(1))
    separator = words.index("--")
    env = dict(word.split("=", 1) for word in words[words.index("-e") + 1 : separator : 2])
    check_stdio_command(words[separator + 1], words[separator + 2 :], env, "claude mcp add")
    for runner in ("uvx wrike-mcp serve", "pipx run wrike-mcp serve"):
        assert f"`{runner}`" in README
    assert f"dist/wrike_mcp-{__version__}-py3-none-any.whl" in README  # the local wheel path is current


# --- the wheel and the bundle, built once ------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path
    bundle: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`make dist` and `make mcpb`, by the same commands, into a temporary folder."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], check=True, capture_output=True
    )
    wheel = out / f"wrike_mcp-{__version__}-py3-none-any.whl"
    bundle = out / "wrike-mcp.mcpb"
    staging = tmp_path_factory.mktemp("mcpb-staging")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_mcpb.py"),
            "--wheel",
            str(wheel),
            "--out",
            str(bundle),
            "--staging",
            str(staging),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Manifest schema validation passes!" in result.stdout  # the official CLI checked it
    return Built(wheel=wheel, sdist=out / f"wrike_mcp-{__version__}.tar.gz", bundle=bundle)


def test_the_wheel_installs_into_a_fresh_venv_and_serves(built: Built, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(built.wheel)], check=True
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WRIKE_", "PYTHON"))}
    command = str(venv / "bin" / "wrike-mcp")
    version = subprocess.run([command, "--version"], capture_output=True, text=True, env=env, check=True)
    assert version.stdout.strip() == f"wrike-mcp {__version__}"
    call = subprocess.run(
        [command, "call", "get_me", "{}", "--sandbox"], capture_output=True, text=True, env=env, timeout=120
    )
    assert call.returncode == 0, call.stderr
    assert json.loads(call.stdout)["user"]["name"] == "Ann Lee"
    origin = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import wrike_mcp; print(wrike_mcp.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tmp_path,
    )
    assert origin.stdout.startswith(str(venv))  # the installed copy, not this checkout
    assert built.sdist.exists()


def bundle_manifest(bundle: Path) -> dict[str, Any]:
    with zipfile.ZipFile(bundle) as archive:
        data: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return data


def test_the_bundle_manifest_lists_every_tool_and_keeps_the_token_secret(built: Built) -> None:
    manifest = bundle_manifest(built.bundle)
    assert (manifest["name"], manifest["version"]) == ("wrike-mcp", __version__)
    assert [tool["name"] for tool in manifest["tools"]] == [spec.name for spec in all_tools()]
    config = manifest["user_config"]
    assert config["wrike_access_token"]["sensitive"] is True
    assert [key for key, option in config.items() if option.get("sensitive")] == ["wrike_access_token"]
    server = manifest["server"]
    assert server["type"] == "python" and server["entry_point"] == "server/main.py"
    env = server["mcp_config"]["env"]
    referenced = {m for value in env.values() for m in re.findall(r"\$\{user_config\.(\w+)\}", value)}
    assert referenced == set(config)  # every form field is used, and only fields the form has
    assert {name for name in env if name.startswith("WRIKE_")} <= setting_env_names()
    runtime = manifest["compatibility"]["runtimes"]["python"]
    assert runtime == f">={sys.version_info.major}.{sys.version_info.minor},<3.{sys.version_info.minor + 1}"
    assert manifest["compatibility"]["platforms"] == [sys.platform]


def substitute(value: str, folder: Path, user_config: dict[str, str]) -> str:
    value = value.replace("${__dirname}", str(folder))
    return re.sub(r"\$\{user_config\.(\w+)\}", lambda match: user_config[match.group(1)], value)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_unpacked_bundle_starts_from_its_own_contents(
    built: Built, tmp_path: Path, mode: str
) -> None:
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(built.bundle) as archive:
        archive.extractall(folder)
    manifest = bundle_manifest(built.bundle)
    mcp_config = manifest["server"]["mcp_config"]
    form = {
        "wrike_access_token": "not-used-by-the-sandbox",
        "wrike_host": "www.wrike.com",
        "read_only": "true",
        "toolsets": "",
    }
    env = {key: substitute(value, folder, form) for key, value in mcp_config["env"].items()}
    env |= {"HOME": str(tmp_path), "WRIKE_MCP_KEYRING": "0"}
    args = [substitute(arg, folder, form) for arg in mcp_config["args"]]
    # The base interpreter with no site-packages at all (-S): every import must come from the bundle.
    python = getattr(sys, "_base_executable", sys.executable)
    params = StdioServerParameters(command=python, args=["-S", *args, "--sandbox"], env=env)
    async with Client(params, mode=mode) as client:
        tools = await client.list_tools()
        me = await client.call_tool("get_me", {})
    assert sorted(tool.name for tool in tools.tools) == sorted(
        spec.name for spec in all_tools() if spec.read_only and spec.toolset not in OFF_BY_DEFAULT
    )
    assert not me.is_error
    assert me.structured_content is not None and me.structured_content["user"]["name"] == "Ann Lee"


def test_the_bundle_imports_its_compiled_dependencies_from_its_own_folder(
    built: Built, tmp_path: Path
) -> None:
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(built.bundle) as archive:
        archive.extractall(folder)
    python = getattr(sys, "_base_executable", sys.executable)
    origin = subprocess.run(
        [
            python,
            "-S",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import wrike_mcp, pydantic_core; "
            "print(wrike_mcp.__file__); print(pydantic_core.__file__)",
            str(folder / "server" / "lib"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = origin.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith(str(folder)) for line in lines)
