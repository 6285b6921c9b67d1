"""The client's event hooks: write hooks hear every write Wrike answered (and every one whose outcome is
unknown), request hooks on a `hooked` view hear that view's requests only; the resolver keeps its caches
through its write hook."""

from __future__ import annotations

import anyio
import httpx
import pytest

from tests.wrike.wrike_helpers import add_fault
from wrike_mcp.wrike.client import WrikeClient, Written
from wrike_mcp.wrike.errors import InvalidParameter, UnknownOutcome
from wrike_mcp.wrike.models import Folder
from wrike_mcp.wrike.resolve import Resolver


async def test_write_hooks_hear_what_wrike_answered_and_nothing_else(client: WrikeClient) -> None:
    heard: list[Written] = []
    client.write_hooks.append(heard.append)
    resolver = Resolver(client)
    planning = await resolver.folder_id("Marketing/Planning")
    assert heard == []  # reads are not writes

    created = await client.post(f"/folders/{planning}/folders", {"title": "Offsite"}, model=Folder)
    await client.put(f"/folders/{created[0].id}", {"title": "Retreat"})
    with pytest.raises(InvalidParameter):
        await client.put(f"/folders/{created[0].id}", {"importance": "Extreme"})  # refused: nothing applied
    await client.delete(f"/folders/{created[0].id}")

    assert [(w.method, w.path, w.kind) for w in heard] == [
        ("POST", f"/folders/{planning}/folders", "folders"),
        ("PUT", f"/folders/{created[0].id}", "folders"),
        ("DELETE", f"/folders/{created[0].id}", "folders"),
    ]
    assert [w.entities[0]["title"] for w in heard if w.entities] == ["Offsite", "Retreat", "Retreat"]


async def test_a_write_of_unknown_outcome_makes_the_resolver_read_everything_again(
    client: WrikeClient, control: httpx.AsyncClient
) -> None:
    heard: list[Written] = []
    client.write_hooks.append(heard.append)
    resolver = Resolver(client)
    launch = await resolver.folder_id("Marketing/Campaigns/Q3 Launch")
    await resolver.person_id("Ben Carter")
    await add_fault(control, method="POST", path="/api/v4/folders/*/folders", status=500, apply=True)
    with pytest.raises(UnknownOutcome):
        await client.post(f"/folders/{launch}/folders", {"title": "Maybe made"})
    assert [(w.method, w.entities) for w in heard] == [("POST", None)]
    before = client.request_count
    assert await resolver.folder_id("Marketing/Campaigns/Q3 Launch/Maybe made")  # the tree was read again
    await resolver.person_id("Ben Carter")
    assert client.request_count == before + 2  # the tree and the contacts


async def test_a_hooked_view_hears_only_its_own_requests(client: WrikeClient) -> None:
    first: list[tuple[str, str]] = []
    second: list[tuple[str, str]] = []
    one, two = client.hooked(lambda *r: first.append(r)), client.hooked(lambda *r: second.append(r))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(one.get, "/contacts")
        tasks.start_soon(two.get, "/spaces")
        tasks.start_soon(client.get, "/workflows")  # the client itself: neither view hears it
    assert first == [("GET", "/contacts")]
    assert second == [("GET", "/spaces")]
    assert client.request_hooks == []


async def test_a_bound_resolver_reads_through_its_view_and_shares_the_caches(client: WrikeClient) -> None:
    resolver = Resolver(client)
    heard: list[tuple[str, str]] = []
    view = resolver.bound(client.hooked(lambda *r: heard.append(r)))
    await view.person_id("Ben Carter")
    assert heard == [("GET", "/contacts")]
    before = client.request_count
    await resolver.person_id("Ben Carter")  # cached by the view's read
    assert client.request_count == before


async def test_a_write_through_a_hooked_view_reaches_the_resolver(client: WrikeClient) -> None:
    resolver = Resolver(client)
    planning = await resolver.folder_id("Marketing/Planning")  # the tree is cached
    view = client.hooked(lambda *_: None)  # one remote call's client
    created = await view.post(f"/folders/{planning}/folders", {"title": "Offsite"})
    before = client.request_count
    assert await resolver.folder_id("Marketing/Planning/Offsite") == created[0]["id"]
    assert client.request_count == before  # the write hook put it in the cached tree: no read
