"""The PostgreSQL job store: API replicas and workers on many hosts share one database.

Job logs live in the database too, so any replica serves any job's log; claims use
``FOR UPDATE SKIP LOCKED`` and idle workers wake on ``LISTEN/NOTIFY``.
"""
