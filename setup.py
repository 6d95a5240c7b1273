"""Build hook for the cffi extensions in uprobe_py/_native/ (metadata lives in pyproject.toml).

Each `uprobe_py/_native/build_*.py` defines an `ffi` (cffi API mode, out-of-line); pip runs
gcc on it at install time, so `pip install .` / `pip install -e .` is the whole set-up.
"""
import glob

from setuptools import setup

setup(cffi_modules=sorted(f"{p}:ffi" for p in glob.glob("uprobe_py/_native/build_*.py")))
