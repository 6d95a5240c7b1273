"""Built-in (Python-implemented) stap functions; one module per tapset group (fn_*.py)."""
