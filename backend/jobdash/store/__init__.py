"""The job store: the one interface to jobs and their logs, and its implementations.

Owns: the :class:`~jobdash.store.interface.JobStore` protocol that the API, the worker
and the CLI depend on (``interface``), choosing the implementation (``factory``), the
SQLite store (``sqlite/``: connections, migrations, SQL), and job log files (writing in
``log_writer``, reading by line offset in ``log_reader``). The only package that imports
``sqlite3``. May import: :mod:`jobdash.model`, :mod:`jobdash.util`.
"""
