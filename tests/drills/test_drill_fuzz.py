"""Drill 4: hostile input, fuzzed, against the real server (uvicorn's HTTP parser and all).

What it shows:

- Schemathesis (from PyPI) takes the OpenAPI document (reads, and the writes with a
  bearer token: submissions and cancellations) (checked to be exactly what
  ``/api/openapi.json`` serves) and sends generated requests to every operation of a
  running ``jobdash serve`` whose store holds jobs of every status and type, with logs
  and hostile file names: valid values (positive mode) and values that break the schema
  (negative mode: wrong types, out-of-range numbers, strings for numbers, unknown enum
  values, NUL and unicode), ``MAX_EXAMPLES`` per operation, plus its coverage phase
  (boundary values of every parameter, other methods). Job ids come
  from the store half of the time, so detail and log requests reach real jobs. Every
  response is checked: no 5xx, status codes the document declares, the declared
  content type, bodies and headers that conform to the declared schemas, invalid input
  rejected with a 4xx and valid input accepted. Every operation and every parameter is
  exercised (counted, and asserted at the end).
- Hand-written payloads on top, sent as raw bytes over a socket so no client tidies
  them up: path traversal in job ids (``..%2f..%2fetc%2fpasswd`` and its encoded,
  double-encoded, backslash and overlong-UTF-8 cousins), NUL and unicode (emoji, bidi
  overrides, lone surrogates, fullwidth and Arabic-Indic digits) in ids, parameter
  names and values, negative and huge numbers (-1, 10**30, 2**63, 1e309, NaN) for every
  numeric parameter, parameters repeated a thousand times, values and names of 60 KB, a
  100 KB ``If-None-Match``. Each gets a 400 (or 404/200 where the value is in fact
  valid) as a short JSON error; nothing reaches the file system (no ``root:`` in any
  body). Request lines over 64 KiB (66 KB, 100 KB, 1 MB) are refused by uvicorn's HTTP
  parser with a plain-text 400 before the app; the server lives on. The server logs no
  traceback.

tests/http/test_api.py covers the same parameters in-process; this drill adds the real HTTP
stack, generated cases and the payloads that file does not send.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import unregister_string_format
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jobdash.http.openapi import openapi_document
from jobdash.store.log_writer import JobLog
from jobdash.util.timestamps import now_iso
from support.browser_drills import ServerProcess
from support.sqlhelpers import insert_row

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 300  # per operation (fuzzing phase; positive and negative cases mixed)


@schemathesis.check
def negative_data_rejection_but_empty_means_not_given(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' negative_data_rejection, except for the contract's one deliberate
    leniency: an empty query value (``limit=``) means "not given", so it is accepted."""
    sent = urllib.parse.urlsplit(response.request.url).query
    if any(value == "" for _, value in urllib.parse.parse_qsl(sent, keep_blank_values=True)):
        return None
    return negative_data_rejection(ctx, response, case)


@schemathesis.check
def positive_data_acceptance_but_job_types_are_open(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' positive_data_acceptance, except where the API checks more than a
    schema can say: job types are an open vocabulary (a well-formed name that no worker
    registered and no job carries is a 400 naming the known ones), and a submission's
    target must exist. Those 400s are by design."""
    if case.operation.method.upper() == "POST" and case.operation.path == "/api/jobs":
        return None
    if response.status_code == 400 and "registered job type" in response.text:
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection_but_empty_means_not_given,
    positive_data_acceptance_but_job_types_are_open,
]
TOKEN = "fuzz-drill-token-0123456789abcdef"
HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>.mkv",
    "a\x00b\nc\x1b[31m.mkv",
    "\u202eevil\u202c.mp4",
    "Film 🎬 (2020).mkv",
    "../../etc/passwd",
]

# What the fuzzing saw, for the coverage assertions and the drill's report.
TALLY: dict[str, Counter[Any]] = {"operations": Counter(), "statuses": Counter(), "params": Counter()}
JOB_TYPES = ("scan", "apply", "transcode", "move", "process", "prune")
# Fixed ids, known before the server starts, so that generation can draw from them.
SEEDED_IDS = [str(uuid.UUID(int=0x5EED_0000_0000_4000_8000_0000_0000_0000 + n)) for n in range(10)]


# --------------------------------------------------------------------------- the server


def _seed(data_dir: Path) -> None:
    """Jobs of every status and type, hostile names, logs of 0 to 270 lines."""
    statuses = ("queued", "running", "completed", "failed", "cancelled")
    for index, job_id in enumerate(SEEDED_IDS):
        status = statuses[index % len(statuses)]
        name = HOSTILE_NAMES[index % len(HOSTILE_NAMES)]
        stamp = now_iso()
        row: dict[str, Any] = {
            "id": job_id,
            "file_path": f"/media/{name}",
            "job_type": JOB_TYPES[index % 6],
            "status": status,
            "priority": index * 97 % 1001,
            "created_at": stamp,
            "progress_percent": 0,
        }
        if status != "queued":
            row |= {
                "started_at": stamp,
                "worker_pid": 4242,
                "worker_heartbeat": stamp,
                "progress_percent": 30.0,
                "progress_json": json.dumps({"processed": 3, "total": 10, "unit": "files"}),
            }
        if status in ("completed", "failed", "cancelled"):
            row["completed_at"] = stamp
        if status == "completed":
            row["summary_json"] = json.dumps(
                {
                    "files_found": 2,
                    "files_scanned": 2,
                    "errors": 0,
                    "bytes": 10,
                    "containers": {"matroska": 2},
                    "root": name,
                }
            )
        if status == "failed":
            row["error_message"] = "boom <b>not markup</b>\x00"
        insert_row(data_dir, row)
        with JobLog(data_dir / "logs" / f"{job_id}.log") as log:
            for line in range(index * 30):
                log.write(f"line {line} of {name}")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("fuzz")
    tokens = tmp / "tokens"
    tokens.write_text(TOKEN + "\n")
    tokens.chmod(0o600)
    # The API with writes on (the write operations are fuzzed too, with a token), no worker;
    # held polls on, but short (a fuzzed `Prefer: wait=25` must not outlast the client's timeout).
    server = ServerProcess(
        tmp / "data", tmp / "server.log", max_wait=1, extra=("--api-token-file", str(tokens))
    ).start()
    try:
        _seed(server.data_dir)
        yield server
        output = server.output()
        assert "Traceback" not in output and "unhandled error" not in output, output
    finally:
        server.close()
        unregister_string_format("uuid")


# Job ids: a seeded job's half of the time, a random UUID (a 404) otherwise. The schema
# is the document the server serves (checked below), loaded at import as schemathesis'
# pytest integration needs; requests go to the live server through ``base_url``.
schemathesis.openapi.format("uuid", st.sampled_from(SEEDED_IDS) | st.uuids().map(str))
schema = schemathesis.openapi.from_dict(
    openapi_document(),
    # A fixed seed keeps CI deterministic; DRILL_FUZZ_SEED=N explores other cases.
    config=schemathesis.Config.from_dict(
        {"seed": int(os.environ.get("DRILL_FUZZ_SEED", "20260101")), "generation": {"mode": "all"}}
    ),
)


def test_the_fuzzed_document_is_the_served_one(fuzz_server: ServerProcess) -> None:
    status, _, body = raw_get(fuzz_server.port, b"/api/openapi.json")
    assert status == 200 and json.loads(body) == json.loads(json.dumps(openapi_document()))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_fuzzed_requests_keep_the_contract(case: Any, fuzz_server: ServerProcess) -> None:
    # The token on every request: writes get past authentication to the input checks.
    response = case.call_and_validate(
        base_url=fuzz_server.base, checks=CHECKS, timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    TALLY["operations"][operation] += 1
    TALLY["statuses"][response.status_code] += 1
    for location, values in (("query", case.query), ("path", case.path_parameters), ("header", case.headers)):
        for name in values or {}:
            TALLY["params"][(operation, location, name)] += 1
    assert response.status_code < 500, (operation, response.status_code, response.text[:300])
    if response.status_code != 304:
        body = json.loads(response.content)
        if response.status_code >= 400:
            assert set(body) == {"error"} and len(body["error"]) < 400, body


def _documented_parameters() -> set[tuple[str, str, str]]:
    wanted = set()
    for path, methods in openapi_document()["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                wanted.add((label, parameter["in"], parameter["name"]))
    return wanted


def test_fuzzing_covered_every_operation_and_parameter() -> None:
    """Runs after the fuzzing above (same module): every operation got enough cases and
    every documented parameter was sent."""
    operations = TALLY["operations"]
    assert operations, "run the whole module: the fuzzing test records what it sent"
    documented = {f"{m.upper()} {p}" for p, ms in openapi_document()["paths"].items() for m in ms}
    assert set(operations) == documented, (set(operations), documented)
    for label, count in operations.items():
        has_parameters = any(p[0] == label for p in _documented_parameters())
        assert count >= (MAX_EXAMPLES if has_parameters else 1), (label, count)
    sent = {key for key, count in TALLY["params"].items() if count}
    missing = {
        p
        for p in _documented_parameters()
        if (p[0], p[1], p[2]) not in sent and (p[0], p[1], p[2].lower()) not in {(a, b, c.lower()) for a, b, c in sent}
    }
    assert not missing, f"parameters never sent: {sorted(missing)}"
    assert not any(status >= 500 for status in TALLY["statuses"]), TALLY["statuses"]
    total = sum(operations.values())
    print(
        f"\ndrill 4 (schemathesis): {total} cases over {len(operations)} operations "
        f"({dict(operations)}); statuses {dict(sorted(TALLY['statuses'].items()))}; 5xx: 0"
    )


# --------------------------------------------------------------------------- by hand


def raw_get(port: int, target: bytes, headers: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send ``GET target`` exactly as given (no client normalisation) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body


UUID = "0b7e2b5e-8f4f-4d3c-9a51-2f1f5b8f0c11"
TRAVERSAL_IDS = [
    "..%2f..%2fetc%2fpasswd",
    "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "..%2F..%2Fjobdash.db",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252fetc%252fpasswd",
    "..%5c..%5cetc%5cpasswd",
    "..\\..\\etc\\passwd",
    "%c0%ae%c0%ae%c0%afetc%c0%afpasswd",
    "....%2f%2f....%2f%2fetc%2fpasswd",
    "%2fetc%2fpasswd",
    "%2e%2e",
    "..%00",
    f"{UUID}%2f..%2f..%2fjobdash.db",
    f"..%2flogs%2f{UUID}.log",
    "file:%2f%2f%2fetc%2fpasswd",
    "%7e%2f.ssh%2fid_rsa",
]
UNICODE_IDS = [
    "%00",
    f"{UUID}%00",
    f"{UUID}%00.log",
    f"{UUID}%0a",
    f"{UUID}%0d%0aX-Injected:%201",
    "%F0%9F%92%A5",
    "%E2%80%AE" + UUID,
    "%ED%A0%80",
    "%EF%BC%91" * 36,
    UUID.upper(),
    "%C3%A9" * 500,
    "a" * 10_000,
    "%24%7Bjndi:ldap:%2f%2fx%7D",
    "%27%20OR%201%3D1%20--",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
]
NUMBERS = [
    "-1",
    "-0",
    "0",
    str(10**30),
    str(2**63),
    str(2**64),
    "1e309",
    "NaN",
    "Infinity",
    "-Infinity",
    "%D9%A3",
    "%EF%BC%91",
    "%201",
    "1%20",
    "0x1",
    "1_0",
    "+1",
    "1.0",
    "1%00",
    "%00",
    "9" * 5000,
]


def _hand_cases(ids: list[str]) -> list[tuple[bytes, set[int]]]:
    """(raw target, acceptable statuses) for every hand-written payload."""
    job_id = ids[0]
    cases: list[tuple[bytes, set[int]]] = []
    for bad in TRAVERSAL_IDS + UNICODE_IDS:
        for suffix in ("", "/logs"):
            cases.append((f"/api/jobs/{bad}{suffix}".encode(), {400, 404}))
    for target in (b"/api/jobs?", f"/api/jobs/{job_id}/logs?".encode()):
        for name in ("limit", "offset") if target == b"/api/jobs?" else ("offset", "lines"):
            for value in NUMBERS:
                valid = name == "offset" and value == "0"  # everything else is out of range or not a number
                cases.append((target + f"{name}={value}".encode(), {200} if valid else {400}))
    for name in ("status", "type", "since", "sort"):
        for value in ("%00", "%F0%9F%92%A5", "%E2%80%AE", "%ED%A0%80", "x" * 60_000, "failed%00", "%C0%AE"):
            cases.append((f"/api/jobs?{name}={value}".encode(), {400}))
    cases += [
        (b"/api/jobs?" + b"&".join([b"status=failed"] * 1000), {400}),
        (b"/api/jobs?" + b"&".join(f"p{i}=1".encode() for i in range(1000)), {400}),
        (b"/api/jobs?" + b"x" * 60_000 + b"=1", {400}),
        (b"/api/jobs?type=" + b"scan," * 12_000 + b"scan", {200}),  # 60 KB of valid repeats
        (b"/api/jobs?%F0%9F%92%A5=1", {400}),
        (b"/api/jobs?%00=%00", {400}),
        (f"/api/jobs/{job_id}/logs?offset=0&offset=1".encode(), {400}),
        (f"/api/jobs/{job_id}?x=1".encode(), {400}),
        (b"/api/config/polling?%00", {400}),
        (b"/api/openapi.json?x=%00", {400}),
    ]
    return cases


def test_hand_written_hostile_payloads(fuzz_server: ServerProcess) -> None:
    server = fuzz_server
    cases = _hand_cases(SEEDED_IDS)
    statuses: Counter[int] = Counter()
    for target, allowed in cases:
        status, headers, body = raw_get(server.port, target)
        statuses[status] += 1
        shown = target[:100]
        assert status in allowed, (shown, status, body[:300])
        assert headers.get("content-type", "").startswith("application/json"), (shown, headers)
        assert headers.get("x-content-type-options") == "nosniff", (shown, headers)
        assert b"root:" not in body and b"SQLite format" not in body, shown
        if status >= 400:
            message = json.loads(body)["error"]
            assert len(message) < 400, (shown, message)
    # A 100 KB conditional header: still an ordinary answer (304 needs a match).
    status, _, _ = raw_get(server.port, b"/api/jobs", b"If-None-Match: " + b'"x", ' * 20_000 + b"\r\n")
    statuses[status] += 1
    assert status == 200, status
    total = len(cases) + 1
    print(f"\ndrill 4 (by hand): {total} payloads over the real HTTP stack; statuses {dict(sorted(statuses.items()))}")


@pytest.mark.parametrize("size", [66_000, 100_000, 1_000_000])
def test_urls_over_64_kib_are_refused_by_the_http_layer(fuzz_server: ServerProcess, size: int) -> None:
    """Request lines over 64 KiB never reach the app: uvicorn's HTTP parser answers a
    plain-text 400 ("Invalid HTTP request received.") — not JSON, but never a 5xx, and
    the server answers the next request as usual. Up to that size the app's own short
    JSON 400 applies (above)."""
    for target in (b"/api/jobs?status=" + b"x" * size, b"/api/jobs?" + b"status=failed&" * (size // 14)):
        status, _, body = raw_get(fuzz_server.port, target)
        assert status == 400 and body == b"Invalid HTTP request received.", (status, body[:100])
    assert raw_get(fuzz_server.port, b"/healthz")[0] == 200
