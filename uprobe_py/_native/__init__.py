"""C hot paths built by cffi at install time (see setup.py): one `build_*.py` per extension.

  _hitloop  the ptrace hit loop: wait, registers, resume (build_hitloop.py, hitloop.c)
"""
