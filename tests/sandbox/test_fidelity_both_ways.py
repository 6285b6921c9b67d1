"""Fidelity the other way round: every parameter Wrike's 2026 description documents on an emulated route
is modelled or accepted (and then listed in docs/FIDELITY.md as "accepted, not modelled"), never refused
as "not supported"; and the filters modelled since then do what the description says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.sandbox import wrike_digest
from tests.sandbox.sandbox_helpers import contact_id, folder_id, task_id
from tests.sandbox.test_fidelity import _url
from wrike_mcp.sandbox import SandboxState
from wrike_mcp.sandbox.routes import all_routes

FIDELITY = Path(__file__).parent.parent.parent / "docs" / "FIDELITY.md"
_LISTED = re.compile(r"^- `(GET|POST|PUT|DELETE) (\S+)`: (.+)$")


def _listed_in_docs() -> dict[tuple[str, str], set[str]]:
    text = FIDELITY.read_text(encoding="utf-8").split("## Accepted, not modelled", 1)[1].split("\n## ", 1)[0]
    listed: dict[tuple[str, str], set[str]] = {}
    for line in text.splitlines():
        match = _LISTED.match(line)
        if match:
            listed[(match.group(1), match.group(2))] = set(re.findall(r"`(\w+)`", match.group(3)))
    return listed


def test_every_documented_parameter_is_modelled_or_listed_as_accepted() -> None:
    digest = wrike_digest.load()
    listed = _listed_in_docs()
    checked = 0
    for api_route in all_routes():
        documented = digest.endpoint(api_route.method, api_route.path)
        if documented is None:
            assert not api_route.accepted, api_route.path
            continue
        missing = set(documented.params) - api_route.params - api_route.accepted
        assert not missing, (api_route.method, api_route.path, missing)
        assert api_route.accepted <= set(documented.params), (api_route.path, api_route.accepted)
        assert not api_route.accepted & api_route.params, api_route.path
        assert listed.get((api_route.method, api_route.path), set()) == set(api_route.accepted), (
            api_route.method,
            api_route.path,
        )
        checked += 1
    assert checked >= 60
    assert sum(len(v) for v in listed.values()) >= 60


def _not_supported(response: httpx.Response, name: str) -> bool:
    return response.status_code == 400 and f"'{name}'" in response.text and "not supported" in response.text


async def test_no_documented_parameter_is_refused_as_not_supported(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    digest = wrike_digest.load()
    targets = []
    for api_route in all_routes():  # every url first: the writes below rename and move things
        documented = digest.endpoint(api_route.method, api_route.path)
        if documented is None or api_route.method == "DELETE":
            continue
        try:
            targets.append((api_route, documented, _url(api_route, state)))
        except KeyError:  # a path parameter without an example (blueprints, jobs, attachments)
            continue
    tried = 0
    for api_route, documented, url in targets:
        for name in sorted(documented.params):
            response = await api.request(api_route.method, url, params={name: "true"})
            assert not _not_supported(response, name), (api_route.method, api_route.path, name, response.text)
            tried += 1
    assert tried >= 250


async def test_an_undocumented_parameter_is_still_refused(api: httpx.AsyncClient) -> None:
    response = await api.get("/contacts", params={"nickname": "x"})
    assert _not_supported(response, "nickname")


async def _names(api: httpx.AsyncClient, url: str, **params: str) -> list[str]:
    response = await api.get(url, params=params)
    assert response.status_code == 200, response.text
    return [entry["id"] for entry in response.json()["data"]]


async def test_contact_filters(api: httpx.AsyncClient, state: SandboxState) -> None:
    contacts = list(state.contacts.values())
    ann = contact_id(state, "Ann Lee")
    assert await _names(api, "/contacts", name="ann l") == [ann]
    expected_lee = [c.id for c in contacts if "lee" in c.name.lower()]
    assert await _names(api, "/contacts", name="LEE") == expected_lee
    people = [c for c in contacts if c.type == "Person"]
    two = [people[1].email.upper(), people[2].email]
    assert await _names(api, "/contacts", emails=json.dumps(two)) == [people[1].id, people[2].id]
    assert await _names(api, "/contacts", types='["Group"]') == [c.id for c in contacts if c.type == "Group"]
    assert await _names(api, "/contacts", types="Person") == [c.id for c in people]
    assert await _names(api, "/contacts", types="Robot") == []
    deleted = [c.id for c in people if c.deleted]
    assert deleted, "the seed has a deactivated person"
    assert await _names(api, "/contacts", active="false") == deleted
    assert await _names(api, "/contacts", active="true") == [c.id for c in people if not c.deleted]
    group = contact_id(state, "Marketing Team")
    assert await _names(api, f"/contacts/{ann},{group}", types="Group") == [group]
    too_many = json.dumps([f"p{i}@example.com" for i in range(101)])
    assert (await api.get("/contacts", params={"emails": too_many})).status_code == 400
    assert (await api.get("/contacts", params={"types": "Alien"})).status_code == 400


async def test_comment_types(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = next(c.task_id for c in state.comments.values() if c.task_id)
    assert task is not None
    expected = sorted(c.id for c in state.comments.values() if c.task_id == task)
    for url in (f"/tasks/{task}/comments", f"/comments/{','.join(expected)}"):
        assert sorted(await _names(api, url, types='["Regular"]')) == expected
        assert sorted(await _names(api, url, types="Email,Regular")) == expected
        assert await _names(api, url, types='["Email"]') == []


async def _pages(api: httpx.AsyncClient, url: str, **params: str) -> tuple[list[str], int]:
    ids: list[str] = []
    requests = 0
    query: dict[str, str] = dict(params)
    while True:
        response = await api.get(url, params=query)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        requests += 1
        ids += [entry["id"] for entry in body["data"]]
        if "nextPageToken" not in body:
            return ids, requests
        query = {"nextPageToken": body["nextPageToken"]}


async def test_timelog_paging_and_categories(api: httpx.AsyncClient, state: SandboxState) -> None:
    everything = await _names(api, "/timelogs")
    assert len(everything) == len([t for t in state.timelogs.values() if not state.tasks[t.task_id].deleted])
    paged, requests = await _pages(api, "/timelogs", pageSize="7")
    assert paged == everything and requests == -(-len(everything) // 7)
    first = (await api.get("/timelogs", params={"pageSize": "7"})).json()
    assert first["responseSize"] == len(everything)
    assert await _names(api, "/timelogs", limit="3") == everything[:3]
    folder = folder_id(state, "Marketing")
    in_folder = await _names(api, f"/folders/{folder}/timelogs")
    assert (await _pages(api, f"/folders/{folder}/timelogs", pageSize="2"))[0] == in_folder
    assert await _names(api, "/timelogs", timelogCategories='["KX7777"]') == []
    assert await _names(api, "/timelogs", approvalStatuses='["Approved"]') == everything  # not modelled
    assert (await api.get("/timelogs", params={"approvalStatuses": "Maybe"})).status_code == 400
    assert (await api.get("/timelogs", params={"pageSize": "0"})).status_code == 400


async def test_folder_paging_authors_and_owners(api: httpx.AsyncClient, state: SandboxState) -> None:
    everything = await _names(api, "/folders", project="true")
    paged, requests = await _pages(api, "/folders", project="true", pageSize="3")
    assert paged == everything and requests == -(-len(everything) // 3)
    response = await api.get("/folders", params={"pageSize": "3"})
    assert response.json()["kind"] == "folders"  # paging is for the folders kind only
    projects = [f for f in state.folders.values() if f.project is not None and not f.deleted]
    owner = projects[0].project.owner_ids[0]  # type: ignore[union-attr]
    owned = {f.id for f in projects if owner in f.project.owner_ids}  # type: ignore[union-attr]
    assert set(await _names(api, "/folders", owners=json.dumps([owner]))) == owned
    author = projects[0].project.author_id  # type: ignore[union-attr]
    authored = {f.id for f in projects if f.project.author_id == author}  # type: ignore[union-attr]
    assert set(await _names(api, "/folders", authors=json.dumps([author]))) == authored
    ben = contact_id(state, "Ben Carter")
    assert ben != author
    assert set(await _names(api, "/folders", authors=json.dumps([ben]))) == {
        f.id
        for f in projects
        if f.project.author_id == ben  # type: ignore[union-attr]
    }


async def test_task_custom_fields_filter(api: httpx.AsyncClient, state: SandboxState) -> None:
    budget = next(f for f in state.custom_fields.values() if f.title == "Budget")
    value = next(t.custom_fields[budget.id] for t in state.tasks.values() if budget.id in t.custom_fields)
    expected = {
        t.id for t in state.tasks.values() if not t.deleted and t.custom_fields.get(budget.id) == value
    }
    assert expected
    found = await _names(api, "/tasks", customFields=json.dumps([{"id": budget.id, "value": value}]))
    assert set(found) == expected
    unknown = await api.get("/tasks", params={"customFields": json.dumps([{"id": "IEAAAAAAJUAAAAAA"}])})
    assert unknown.status_code == 400


async def test_space_access_types(api: httpx.AsyncClient, state: SandboxState) -> None:
    spaces = [f for f in state.folders.values() if f.space is not None and not f.deleted]
    live = [f for f in spaces if not f.space.archived]  # type: ignore[union-attr]
    private = {f.id for f in live if f.space.access_type == "Private"}  # type: ignore[union-attr]
    assert private
    assert set(await _names(api, "/spaces", accessTypes='["Private"]')) == private
    public = {f.id for f in live if f.space.access_type == "Public"}  # type: ignore[union-attr]
    assert set(await _names(api, "/spaces", accessTypes="Public,Private")) == public | private
    assert (await api.get("/spaces", params={"accessTypes": "Secret"})).status_code == 400
    assert task_id(state, "Draft launch announcement")  # the seed is the one the other tests use
