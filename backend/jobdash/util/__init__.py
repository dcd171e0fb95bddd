"""Small stateless helpers that several layers use: timestamps, text safety, targets.

Owns: ISO-8601 UTC timestamps (``timestamps``), printing untrusted text on one line
(``textsafe``), checking a job's target path (``targets``, a stat only). May import:
the standard library only.
"""
