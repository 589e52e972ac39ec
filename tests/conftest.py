"Shared fixtures of the process-level tests."
import os, sys, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def run(*args, cwd=None, env=None, timeout=600) -> subprocess.CompletedProcess:
    "Run a command the way a user would, capturing its output."
    e = {**os.environ, 'MPLBACKEND': 'agg', **(env or {})}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)

@pytest.fixture(scope='session')
def s2i():
    "Path of the installed `s2i` console script."
    exe = BIN/'s2i'
    assert exe.exists(), f"{exe} missing: install the package (pip install -e .)"
    return exe

@pytest.fixture(scope='session')
def data_dir():
    "The digits data the tests read (../shared/data or $S2I_DATA)."
    from s2i_nb.datasets import find_data
    return find_data(download=False)
