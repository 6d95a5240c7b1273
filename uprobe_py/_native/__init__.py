"""C hot paths built by cffi at install time (see setup.py): one `build_*.py` per extension.

  _hitloop  the ptrace hit loop: wait, registers, resume (build_hitloop.py, hitloop.c)
  _perf     perf_event_open, ring buffers, sample decoding (build_perf.py, perf.c)
"""
