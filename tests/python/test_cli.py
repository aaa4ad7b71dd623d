"""The CLI entry point: an unexpected failure is one masked line and exit 1, its traceback
only in the log file; `--version` answers without importing the settings or the sources."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from loaders import __version__

from .conftest import Cli

SECRET = "secretKEY123"


def _broken_data_dir(cli: Cli) -> Path:
    """A data folder that is a plain file (a mistyped path, a full disk's leftovers): nothing
    can be created under it, which no command expects. Its name holds the API key, so the
    error text carries a secret."""
    broken = cli.data_dir.parent / f"not-a-folder-{SECRET}"
    broken.write_text("this is a file\n")
    return broken


def _logged_exceptions(folder: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(folder.glob("gridwarehouse-*.jsonl"))
        for line in path.read_text().splitlines()
        if "exception" in json.loads(line)
    ]


def test_an_unexpected_failure_is_one_masked_line_and_the_traceback_is_in_the_log_file(
    cli: Cli, tmp_path: Path
) -> None:
    broken = _broken_data_dir(cli)
    logs = tmp_path / "logs"
    for command in (["load", "bmrs", "--dataset", "BOALF"], ["load", "bmrs", "--dataset", "FREQ"]):
        result = cli.run(
            *command,
            GRIDWAREHOUSE_DATA_DIR=str(broken),
            GRIDWAREHOUSE_DUCKDB_PATH=str(broken / "gridwarehouse.duckdb"),
            GRIDWAREHOUSE_LOG_DIR=str(logs),
            BMRS_API_KEYS=SECRET,
        )
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and SECRET not in result.stderr + result.stdout
        line = next(x for x in result.stderr.splitlines() if "internal error" in x)
        log_file = next(logs.glob("gridwarehouse-*.jsonl"))
        assert line.startswith("gridwarehouse: internal error: ")
        assert "Error: [Errno" in line and "not-a-folder-***" in line
        assert line.endswith(f"; details in {log_file}")
    logged = _logged_exceptions(logs)
    assert len(logged) == 2
    assert all(
        "Traceback" in x["exception"] and "not-a-folder-***" in x["exception"] for x in logged
    )
    assert SECRET not in log_file.read_text()


def test_the_traceback_goes_to_the_temporary_folder_when_the_log_folder_is_unwritable(
    cli: Cli, tmp_path: Path
) -> None:
    broken = _broken_data_dir(cli)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    # the log folder defaults to <data dir>/logs, which cannot exist under a file
    result = cli.run(
        "load",
        "bmrs",
        "--dataset",
        "FREQ",
        GRIDWAREHOUSE_DATA_DIR=str(broken),
        GRIDWAREHOUSE_DUCKDB_PATH=str(broken / "gridwarehouse.duckdb"),
        TMPDIR=str(temporary),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    fallback = temporary / "gridwarehouse-logs"
    assert result.stderr.strip().endswith(f"details in {next(fallback.glob('*.jsonl'))}")
    assert len(_logged_exceptions(fallback)) == 1


def test_bad_input_keeps_its_own_message_and_exit_code(cli: Cli) -> None:
    result = cli.run("load", "bmrs", "--dataset", "NOT_A_DATASET")
    assert result.returncode == 2 and "internal error" not in result.stderr
    assert "unknown dataset NOT_A_DATASET" in result.stderr and "Traceback" not in result.stderr


def test_version_answers_without_importing_pydantic_or_the_sources() -> None:
    # -X importtime names every module the interpreter imports, on stderr
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "loaders", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "loaders.cli" in imported  # the version path itself was traced
    assert not {m for m in imported if m.startswith(("pydantic", "loaders.sources", "pyarrow"))}
    # the same answer as the full parser gives when --version follows another option
    parsed = subprocess.run(
        [sys.executable, "-m", "loaders", "--log-level", "INFO", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == parsed.stdout == f"gridwarehouse {__version__}\n"
