"""Run dbt against the configured warehouse with the project's own profile."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from loaders.common.bigquery import require_bigquery_settings
from loaders.common.warehouse import build_lock
from loaders.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def ensure_profiles(project_root: Path = PROJECT_ROOT) -> Path:
    """profiles.yml beside dbt_project.yml, copied from profiles.yml.example when missing."""
    profiles = project_root / "profiles.yml"
    if not profiles.exists():
        shutil.copyfile(project_root / "profiles.yml.example", profiles)
    return profiles


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment for dbt: the resolved target and warehouse location, absolute paths."""
    env = dict(os.environ)
    env["GRIDWAREHOUSE_TARGET"] = settings.target
    env["GRIDWAREHOUSE_DUCKDB_PATH"] = str(settings.duckdb_path.resolve())
    if settings.bq_project:
        env["GRIDWAREHOUSE_BQ_PROJECT"] = settings.bq_project
    env["GRIDWAREHOUSE_BQ_LOCATION"] = settings.bq_location
    env["GRIDWAREHOUSE_BQ_DATASET_PREFIX"] = settings.bq_dataset_prefix
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("DBT_LOG_PATH", str((settings.data_dir / "logs" / "dbt").resolve()))
    return env


def run_dbt(
    settings: Settings, args: Sequence[str], *, lock: bool = True, output: IO[str] | None = None
) -> int:
    """Run `dbt <args>` in the project, holding the warehouse lock as a build while dbt runs
    (readers of the load log use its snapshot meanwhile; loads wait for it).
    `output`: a file for dbt's whole console output (uncoloured) instead of the terminal."""
    if settings.target == "bigquery":
        require_bigquery_settings(settings)
    profiles_dir = Path(os.environ.get("GRIDWAREHOUSE_DBT_PROFILES_DIR") or PROJECT_ROOT)
    if profiles_dir == PROJECT_ROOT:
        ensure_profiles()
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt) if dbt.exists() else "dbt",
        *args,
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(profiles_dir.resolve()),
    ]
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    env = dbt_env(settings)
    if output is not None:
        env["DBT_USE_COLORS"] = "false"  # a log file, not a terminal: no ANSI codes in it
    streams = {"stdout": output, "stderr": subprocess.STDOUT} if output is not None else {}
    if lock and settings.target == "duckdb":
        with build_lock(settings, f"dbt {args[0] if args else ''}"):
            return subprocess.call(command, env=env, cwd=PROJECT_ROOT, **streams)
    return subprocess.call(command, env=env, cwd=PROJECT_ROOT, **streams)


def build(settings: Settings, extra: Sequence[str]) -> int:
    """`gridwarehouse build`: dbt build; exit 1 when a model or test fails."""
    code = run_dbt(settings, ["build", *extra])
    if code == 0 and not extra:  # a full build: `run` may build selectively from now on
        mark_built(settings)
    return 0 if code == 0 else 1


def project_fingerprint() -> str:
    """Names and sizes of the dbt project's files: a new or changed model changes it."""
    digest = hashlib.sha256()
    for folder in ("models", "macros", "seeds", "snapshots"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(PROJECT_ROOT)}:{path.stat().st_size}".encode())
    digest.update((PROJECT_ROOT / "dbt_project.yml").read_bytes())
    return digest.hexdigest()[:16]


def built_marker(settings: Settings) -> Path:
    """Holds the fingerprint of the project version this warehouse last had a full build of."""
    return settings.pipelines_dir / "dbt.built"


def mark_built(settings: Settings) -> None:
    marker = built_marker(settings)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(project_fingerprint())
