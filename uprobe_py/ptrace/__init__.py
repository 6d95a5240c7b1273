"""ptrace-based probe engine for `process(...).function(...)` entry probes (issue 3, v0)."""
