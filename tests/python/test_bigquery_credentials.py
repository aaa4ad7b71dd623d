"""BigQuery without credentials: every command that would use the warehouse stops before any
work with one line naming what to set (exit 2), instead of fetching and then a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli


@pytest.fixture
def no_credentials(cli: Cli, tmp_path: Path) -> dict[str, str]:
    """A BigQuery project and no way to find credentials (no key file, no gcloud config)."""
    cli.env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    cli.env.pop("BIGQUERY_EMULATOR_HOST", None)
    home = tmp_path / "home"
    home.mkdir()
    return {
        "GRIDWAREHOUSE_TARGET": "bigquery",
        "GRIDWAREHOUSE_BQ_PROJECT": "gridwarehouse-test-project",
        "HOME": str(home),
        "CLOUDSDK_CONFIG": str(home / "gcloud"),
        "GCE_METADATA_HOST": "127.0.0.1:9",  # not on Google Cloud: nothing answers
        "GCE_METADATA_IP": "127.0.0.1:9",
    }


@pytest.mark.parametrize(
    "command",
    [
        ("load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01", "--to", "2024-05-02"),
        ("status",),
        ("build",),
    ],
    ids=["load", "status", "build"],
)
def test_bigquery_without_credentials_stops_before_any_work_in_one_line(
    cli: Cli, no_credentials: dict[str, str], command: tuple[str, ...]
) -> None:
    result = cli.run(*command, **no_credentials)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gridwarehouse: error: GRIDWAREHOUSE_TARGET=bigquery found no")
    assert "GOOGLE_APPLICATION_CREDENTIALS" in lines[0] and "Traceback" not in result.stderr
    # no work: nothing fetched into a local warehouse, dbt never started (no manifest written)
    assert not cli.duckdb_path.exists()
    assert not Path(cli.env["DBT_TARGET_PATH"]).exists()


def test_bigquery_with_a_key_file_that_is_not_one_says_so(
    cli: Cli, no_credentials: dict[str, str], tmp_path: Path
) -> None:
    key = tmp_path / "key.json"
    key.write_text("{}")
    result = cli.run("status", GOOGLE_APPLICATION_CREDENTIALS=str(key), **no_credentials)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"gridwarehouse: error: GOOGLE_APPLICATION_CREDENTIALS={key} is not a service account "
        "key file (MalformedError)"
    )
