"""The write API: POST /api/jobs and POST /api/jobs/{id}/cancel, behind bearer tokens."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobdash.model.states import PRIORITY_MAX
from support.apiclient import ApiClient, assert_api_headers, running_api
from support.contract import DETAIL_FIELDS

TOKEN = "t0ken-for-the-write-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "a.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * 64)
    return folder


@pytest.fixture
def served(tmp_path: Path, store_url: str | None) -> Iterator[tuple[Any, ApiClient]]:
    data = tmp_path / "data"
    data.mkdir()
    with running_api(data, api_tokens=(TOKEN,), database_url=store_url) as pair:
        yield pair


@pytest.fixture
def api(served: tuple[Any, ApiClient]) -> ApiClient:
    return served[1]


@pytest.fixture
def store(served: tuple[Any, ApiClient]) -> Any:
    return served[0].state.store


def post(api: ApiClient, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.request(
        "POST", url, content=content, headers={"Content-Type": "application/json", **AUTH, **(headers or {})}
    )


def error(response: Any, status: int) -> str:
    assert_api_headers(response, status=status)
    body = response.json()
    assert list(body) == ["error"] and body["error"], body
    return body["error"]


def test_submit_queues_a_job_and_answers_201_with_it(api: ApiClient, store: Any, media: Path) -> None:
    """A valid submission is a 201 with the JobDetailItem and Location; the job is queued."""
    response = post(api, "/api/jobs", {"type": "scan", "target": str(media), "priority": 7})
    assert_api_headers(response, status=201)
    item = response.json()
    assert set(item) == DETAIL_FIELDS
    assert (item["status"], item["job_type"], item["priority"], item["params"]) == ("queued", "scan", 7, {})
    assert item["file_path"] == str(media.resolve())
    assert response.headers["location"] == f"/api/jobs/{item['id']}"
    assert store.get(item["id"])["status"] == "queued"
    assert api.get(response.headers["location"]).json() == item


def test_params_are_stored_and_shown(api: ApiClient, store: Any) -> None:
    """Params travel with the job: stored as given, returned in the detail item."""
    store.register_worker("nas", 42, ("checksum",))
    params = {"algo": "sha256", "depth": 2, "nested": {"a": [1, None]}, "<b>": "</b>"}
    item = post(api, "/api/jobs", {"type": "checksum", "target": "x", "params": params}).json()
    assert item["params"] == params
    assert api.get(f"/api/jobs/{item['id']}").json()["params"] == params


def test_a_job_type_checks_its_own_params(api: ApiClient, media: Path) -> None:
    """Each type's declared check runs before anything is queued (scan takes none)."""
    message = error(post(api, "/api/jobs", {"type": "scan", "target": str(media), "params": {"deep": True}}), 400)
    assert message == "the scan job takes no params; got 'deep'"
    assert api.get("/api/jobs").json()["total"] == 0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="transcode is registered only where ffmpeg is found")
def test_an_unknown_transcode_preset_is_a_400_naming_the_choices(api: ApiClient, media: Path) -> None:
    body = {"type": "transcode", "target": str(media / "a.mkv"), "params": {"preset": "vp9"}}
    assert error(post(api, "/api/jobs", body), 400) == "param preset must be one of h264-720p, copy; got 'vp9'"


def test_a_relative_or_tilde_target_is_stored_absolute(
    api: ApiClient, store: Any, media: Path, monkeypatch: Any
) -> None:
    """A worker started elsewhere must find the same folder: targets are made absolute."""
    if not store.local_targets:
        pytest.skip("with workers on other hosts a relative target is refused (next test)")
    monkeypatch.chdir(media.parent)
    item = post(api, "/api/jobs", {"type": "scan", "target": "media"}).json()
    assert item["file_path"] == str(media.resolve())


def test_targets_of_workers_on_other_hosts_need_only_be_absolute(api: ApiClient, store: Any) -> None:
    """On a shared store the workers may mount what the API host does not: an absolute
    target is queued as given (normalised), a relative one is refused."""
    if store.local_targets:
        pytest.skip("the workers run on this host: targets are looked at here")
    item = post(api, "/api/jobs", {"type": "scan", "target": "/mnt/nas//Movies/./"}).json()
    assert item["file_path"] == "/mnt/nas/Movies"
    message = error(post(api, "/api/jobs", {"type": "scan", "target": "Movies"}), 400)
    assert "absolute path" in message and "other hosts" in message


def test_idempotency_key_returns_the_first_job(api: ApiClient, store: Any, media: Path) -> None:
    """A retried submit with the same key gets the first job back, never a second one."""
    body = {"type": "scan", "target": str(media)}
    first = post(api, "/api/jobs", body, {"Idempotency-Key": "retry-1"})
    again = post(api, "/api/jobs", body, {"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert api.get("/api/jobs").json()["total"] == 1
    other = post(api, "/api/jobs", {**body, "priority": 5}, {"Idempotency-Key": "retry-1"})
    assert "already used for a different request" in error(other, 422)
    assert "Idempotency-Key" in error(post(api, "/api/jobs", body, {"Idempotency-Key": "bad key"}), 400)


@pytest.mark.parametrize(
    "body, words",
    [
        ({"type": "nope", "target": "/"}, ["type must be a registered job type", "scan"]),
        ({"target": "/"}, ["type is required", "scan"]),
        ({"type": "scan"}, ["target is required"]),
        ({"type": "scan", "target": ""}, ["target is required"]),
        ({"type": "scan", "target": "/no/such/folder"}, ["does not exist"]),
        ({"type": "scan", "target": __file__}, ["not a directory"]),
        ({"type": "scan", "target": "/", "params": [1]}, ["params must be a JSON object"]),
        ({"type": "scan", "target": "/", "params": "x=1"}, ["params must be a JSON object"]),
        ({"type": "scan", "target": "/", "priority": PRIORITY_MAX + 1}, ["priority must be", "0 (first) to 1000"]),
        ({"type": "scan", "target": "/", "priority": "high"}, ["priority must be"]),
        ({"type": "scan", "target": "/", "priority": True}, ["priority must be"]),
        (
            {"type": "scan", "target": "/", "colour": "red"},
            ["unknown field 'colour'", "type, target, params, priority"],
        ),
        ([{"type": "scan"}], ["must be a JSON object"]),
        ({"type": 5, "target": "/"}, ["type is required"]),
    ],
)
def test_bad_submissions_name_the_field(api: ApiClient, store: Any, body: Any, words: list[str]) -> None:
    """Every bad field is a 400 that names it and what is allowed."""
    if not store.local_targets and words[0] in ("does not exist", "not a directory"):
        pytest.skip("with workers on other hosts the target is not looked at here")
    message = error(post(api, "/api/jobs", body), 400)
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    "content, status, words",
    [
        (b"{", 400, ["not valid JSON"]),
        (b"", 400, ["not valid JSON"]),
        (b'{"type": NaN}', 400, ["not valid JSON"]),
        (b"\xff\xfe", 400, ["not valid JSON"]),
        (b"[" * 50_000 + b"]" * 50_000, 413, ["at most 65,536 bytes"]),
        (b"[" * 30_000 + b"]" * 30_000, 400, ["not valid JSON"]),
    ],
)
def test_malformed_bodies_are_4xx_never_500(api: ApiClient, content: bytes, status: int, words: list[str]) -> None:
    message = error(post(api, "/api/jobs", content), status)
    for word in words:
        assert word in message, message


def test_wrong_content_type_is_415(api: ApiClient) -> None:
    response = api.request("POST", "/api/jobs", content=b"type=scan", headers={**AUTH, "Content-Type": "text/plain"})
    assert "Content-Type must be application/json" in error(response, 415)
    response = api.request("POST", "/api/jobs", content=b"{}", headers=AUTH)
    assert "got 'none'" in error(response, 415)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token-0123456789", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
def test_writes_need_a_valid_bearer_token(api: ApiClient, store: Any, media: Path, authorization: str | None) -> None:
    """A missing or wrong token is a 401 with a Bearer challenge; nothing is queued or cancelled."""
    job = store.create(str(media), "scan")
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    body = json.dumps({"type": "scan", "target": str(media)}).encode()
    for url in ("/api/jobs", f"/api/jobs/{job['id']}/cancel"):
        response = api.request("POST", url, content=body, headers=headers)
        assert "valid API token is required" in error(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in response.text
    assert api.get("/api/jobs").json()["total"] == 1 and store.get(job["id"])["status"] == "queued"


def test_without_tokens_every_write_is_405(tmp_path: Path, media: Path) -> None:
    """Writes are off by default: 405 naming what is allowed and how to turn them on."""
    with running_api(tmp_path) as (app, api):
        job = app.state.store.create(str(media), "scan")
        for url in ("/api/jobs", f"/api/jobs/{job['id']}/cancel"):
            response = post(api, url, {"type": "scan", "target": str(media)})
            message = error(response, 405)
            assert "--api-token-file" in message and response.headers["allow"] == "GET, HEAD"
        assert app.state.store.get(job["id"])["status"] == "queued"


def test_cancel_a_queued_job_then_409(api: ApiClient, store: Any, media: Path) -> None:
    """Cancel answers 200 with the cancelled job; cancelling it again is a 409 naming its status."""
    job = store.create(str(media), "scan")
    response = post(api, f"/api/jobs/{job['id']}/cancel", {})
    assert_api_headers(response, status=200)
    assert response.json()["status"] == "cancelled" and set(response.json()) == DETAIL_FIELDS
    assert "already cancelled" in error(post(api, f"/api/jobs/{job['id']}/cancel", {}), 409)


def test_cancel_unknown_and_malformed_ids(api: ApiClient) -> None:
    assert "no job with id" in error(post(api, "/api/jobs/0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11/cancel", {}), 404)
    assert "must be a UUID" in error(post(api, "/api/jobs/not-a-uuid/cancel", {}), 400)


def test_unknown_query_parameters_on_writes_are_400(api: ApiClient, media: Path) -> None:
    message = error(post(api, "/api/jobs?dry_run=1", {"type": "scan", "target": str(media)}), 400)
    assert "unknown parameter 'dry_run'" in message


def test_types_of_registered_workers_can_be_submitted(api: ApiClient, store: Any) -> None:
    """A type installed only on a worker host is accepted once that worker registered it."""
    assert "registered job type" in error(post(api, "/api/jobs", {"type": "checksum", "target": "x"}), 400)
    store.register_worker("nas", 42, ("checksum",))
    item = post(api, "/api/jobs", {"type": "checksum", "target": "anything"}).json()
    assert (item["job_type"], item["file_path"]) == ("checksum", "anything")


def test_cors_preflight_allows_post_for_an_allowed_origin(tmp_path: Path) -> None:
    """A browser on an allowed origin may POST with a token; others get no CORS grant."""
    with running_api(tmp_path, api_tokens=(TOKEN,), cors_origins=("http://dash.test",)) as (_, api):
        headers = {
            "Origin": "http://dash.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        }
        response = api.request("OPTIONS", "/api/jobs", headers=headers)
        assert response.status_code == 200
        assert "POST" in response.headers["access-control-allow-methods"]
        allowed = response.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "idempotency-key"} <= {h.strip() for h in allowed.split(",")}
        foreign = api.request("OPTIONS", "/api/jobs", headers={**headers, "Origin": "http://evil.test"})
        assert "access-control-allow-origin" not in foreign.headers
