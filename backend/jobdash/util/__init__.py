"""Small pure helpers that several layers use: timestamps and text safety.

Owns: ISO-8601 UTC timestamps (``timestamps``), printing untrusted text on one line
(``textsafe``). May import: the standard library only.
"""
