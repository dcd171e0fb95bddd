"""The ``jobdash`` command: serve, worker, scan, jobs, cancel.

Owns: argument parsing with ``JOBDASH_*`` environment twins and the commands
(``main``), the jobs table (``table``), and the per-platform data directory
(``data_dir``). The top layer: may import every other package but :mod:`jobdash.build`.
"""
