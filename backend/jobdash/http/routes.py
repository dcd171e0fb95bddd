"""Every route of the JSON API, in one table."""

from __future__ import annotations

from starlette.routing import Route

from jobdash.http import api, catalog, writes

routes = [
    Route("/api/jobs", api.list_jobs, methods=["GET"]),
    Route("/api/jobs", writes.submit_job, methods=["POST"]),
    Route("/api/jobs/{job_id}/logs", api.get_job_logs, methods=["GET"]),
    Route("/api/jobs/{job_id}/cancel", writes.cancel_job, methods=["POST"]),
    # ``:path`` so that ids with encoded slashes still get the "must be a UUID" answer.
    Route("/api/jobs/{job_id:path}", api.get_job, methods=["GET"]),
    Route("/api/job-types", catalog.job_types, methods=["GET"]),
    Route("/api/workers", catalog.workers, methods=["GET"]),
    Route("/api/config/polling", api.polling_config, methods=["GET"]),
    Route("/api/openapi.json", api.openapi, methods=["GET"]),
    Route("/healthz", api.healthz, methods=["GET"]),
    # Every other path under /api/ gets the JSON error shape too (other methods: 405).
    Route("/api", api.api_not_found, methods=["GET"]),
    Route("/api/{rest:path}", api.api_not_found, methods=["GET"]),
]
