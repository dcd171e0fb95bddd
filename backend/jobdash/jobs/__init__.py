"""The built-in job types, registered as plugins like any other (entry points).

Owns: ``scan`` (walk a folder, identify containers, fingerprint files) with its
container sniffing (``containers``), and the generated sample media library
(``sample_library``). May import: the public API of :mod:`jobdash` (``JobContext``,
``JobFailed``) and :mod:`jobdash.util`; never the store, the worker's internals or the
server.
"""
