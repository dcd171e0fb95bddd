"""The built-in job types, registered as plugins like any other (entry points).

Owns: ``scan`` (walk a folder, identify containers, fingerprint files) with its
container sniffing (``containers``); ``transcode`` (the system's ffmpeg: presets and
arguments in ``ffmpeg``, its progress stream, log and process in ``ffmpeg_progress``,
``ffmpeg_log``, ``ffmpeg_process``, tools lookup in ``ffmpeg_tools``, ``ffprobe``); the
generated sample media library (``sample_library``) and test clip (``sample_clip``).
May import: the public API of :mod:`jobdash` (``JobContext``, ``JobFailed``,
``job_type``) and :mod:`jobdash.util`; never the store, the worker's internals or the
server.
"""
