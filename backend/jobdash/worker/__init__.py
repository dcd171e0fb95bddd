"""The worker: claims queued jobs and runs their handlers.

Owns: the loop with heartbeats, outcomes and stale-job recovery (``loop``), the public
:class:`~jobdash.worker.context.JobContext` handed to every handler (``context``,
exported as ``jobdash.JobContext``), the job types found through entry points
(``registry``), progress throttling and rate pacing (``throttle``), and the worker as a
child process of the server (``process``). May import: :mod:`jobdash.store` (through its
interface), :mod:`jobdash.model`, :mod:`jobdash.util`; never a job type by name.
"""
