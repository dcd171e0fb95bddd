"""The SQLite store: one database file in WAL mode, for one host.

Owns: the connections and the single writer path (``database``), numbered schema
migrations (``migrations``), the SQL as plain ``fn(conn)`` functions (``jobs_sql``),
and :class:`~jobdash.store.sqlite.store.SqliteStore` that puts them behind the store
interface (``store``).
"""
