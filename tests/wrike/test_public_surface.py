"""The `wrike` package's public surface: every model and error is exported, and nothing private is."""

from __future__ import annotations

import inspect

import wrike_mcp
import wrike_mcp.wrike as wrike
from wrike_mcp.wrike import errors, models


def test_every_model_and_error_is_public() -> None:
    defined = {
        name
        for module in (models, errors)
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and value.__module__ == module.__name__
        and issubclass(value, models.WrikeModel | errors.WrikeError)
    }
    assert defined <= set(wrike.__all__), sorted(defined - set(wrike.__all__))
    expected = {"WrikeClient", "Resolver", "Page", "NULL", "StaticTokenSource", "UntrustedHost"}
    assert expected <= set(wrike.__all__)


def test_the_public_names_exist_and_none_is_private() -> None:
    for package in (wrike, wrike_mcp):
        assert len(set(package.__all__)) == len(package.__all__)
        for name in package.__all__:
            assert hasattr(package, name), f"{package.__name__}.{name}"
            assert not name.startswith("_") or name == "__version__"
