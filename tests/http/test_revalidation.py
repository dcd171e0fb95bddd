"""The revalidation fast path (jobdash.http.revalidation): a matching poll is a bare 304 with
every API header, before routing; anything else takes the full path."""

from __future__ import annotations

from pathlib import Path

from support.apiclient import assert_api_headers, running_api


def test_a_matching_poll_is_a_304_with_every_api_header(tmp_path: Path) -> None:
    with running_api(tmp_path) as (app, api):
        app.state.store.create("/m", "scan")
        etag = api.get("/api/jobs?status=queued").headers["etag"]
        hits = app.state.read_cache.hits
        raw = api.raw(b"/api/jobs", b"status=queued", headers=[(b"if-none-match", etag.encode())])
        assert raw.status_code == 304 and raw.content == b""
        assert_api_headers(raw, status=304)
        assert raw.headers["etag"] == etag
        assert raw.headers.get_list("content-security-policy") == [raw.headers["content-security-policy"]]
        assert app.state.read_cache.hits == hits + 1


def test_changed_data_or_another_etag_gets_the_full_answer(tmp_path: Path) -> None:
    with running_api(tmp_path) as (app, api):
        store = app.state.store
        job = store.create("/m", "scan")
        etag = api.get(f"/api/jobs/{job['id']}").headers["etag"]
        assert api.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": '"other"'}).status_code == 200
        store.cancel(job["id"])
        fresh = api.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": etag})
        assert fresh.status_code == 200 and fresh.json()["status"] == "cancelled"
        assert fresh.headers["etag"] != etag


def test_a_cross_origin_poll_takes_the_full_path_with_its_cors_headers(tmp_path: Path) -> None:
    origin = "https://dash.example.com"
    with running_api(tmp_path, cors_origins=(origin,)) as (app, api):
        etag = api.get("/api/jobs").headers["etag"]
        response = api.get("/api/jobs", headers={"If-None-Match": etag, "Origin": origin})
        assert response.status_code == 304
        assert response.headers["access-control-allow-origin"] == origin
        assert "etag" in response.headers["access-control-expose-headers"].lower()


def test_a_request_never_seen_is_computed_then_revalidated(tmp_path: Path) -> None:
    with running_api(tmp_path) as (app, api):
        first = api.get("/api/jobs?limit=5&sort=status")
        same_query_other_order = api.get(
            "/api/jobs?sort=status&limit=5", headers={"If-None-Match": first.headers["etag"]}
        )
        assert same_query_other_order.status_code == 304
