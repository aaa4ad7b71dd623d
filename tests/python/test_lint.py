"""The code stays lint-clean: ruff for Python, sqlfluff (dbt templater) for the models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env})


def test_ruff_is_clean():
    check = run(str(BIN / "ruff"), "check", "loaders", "tests", "bench")
    assert check.returncode == 0, check.stdout
    fmt = run(str(BIN / "ruff"), "format", "--check", "loaders", "tests", "bench")
    assert fmt.returncode == 0, fmt.stdout


@pytest.mark.slow
def test_sqlfluff_is_clean():
    from loaders.common.dbt import ensure_profiles

    ensure_profiles()
    result = run(
        str(BIN / "sqlfluff"),
        "lint",
        "models",
        "snapshots",
        "tests/dbt",
        GRIDWAREHOUSE_DUCKDB_PATH=":memory:",
    )
    assert result.returncode == 0, result.stdout[-5000:]
