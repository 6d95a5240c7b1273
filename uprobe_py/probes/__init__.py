"""Probe-point families: each module resolves one family's points (begin/end, timers, ...).

`registry.FAMILIES` maps a probe point's first component to its family. The
elaboration pass asks the family to resolve a concrete point into `ProbeSpec`s;
the session asks the family's engine to deliver events for them.
"""
