"""The job vocabulary and the pure rules every layer shares; no I/O.

Owns: statuses, job types and priorities (``states``), job ids (``ids``), the
``GET /api/jobs`` query and its validation (``list_query``), job rows as the API shows
them (``items``), the polling settings (``polling``) and the stale-heartbeat rules
(``staleness``). May import: :mod:`jobdash.util` and the standard library only.
"""
