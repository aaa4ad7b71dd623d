"""Bad input: a clear message, exit code 2, and no rows written."""

from __future__ import annotations

import pytest

RAW_TABLES = ("raw_bmrs.boalf", "raw_bmrs.fuelinst", "raw_bmrs.mils")


def assert_nothing_loaded(cli):
    assert all(cli.count(t) == 0 for t in RAW_TABLES)


def test_unknown_dataset_lists_the_valid_names(cli):
    result = cli.run(
        "load", "bmrs", "--dataset", "NOPE", "--from", "2024-05-01", "--to", "2024-05-02"
    )
    assert result.returncode == 2
    assert "unknown BMRS dataset: NOPE" in result.stderr
    assert (
        "Valid names:" in result.stderr and "BOALF" in result.stderr and "FUELINST" in result.stderr
    )
    assert not cli.duckdb_path.exists()


def test_from_after_to_is_rejected(cli):
    result = cli.run(
        "load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-03", "--to", "2024-05-01"
    )
    assert result.returncode == 2
    assert "--from 2024-05-03 is not before --to 2024-05-01" in result.stderr
    assert not cli.duckdb_path.exists()


@pytest.mark.parametrize("bad", ["2024-02-30", "30/03/2024", "soon"])
def test_malformed_date_is_rejected(cli, bad):
    result = cli.run("load", "bmrs", "--dataset", "BOALF", "--from", bad, "--to", "2024-05-01")
    assert result.returncode == 2
    assert f"--from '{bad}' is not a date: use YYYY-MM-DD" in result.stderr
    assert not cli.duckdb_path.exists()


def test_to_without_from_is_rejected(cli):
    result = cli.run("load", "bmrs", "--dataset", "BOALF", "--to", "2024-05-01")
    assert result.returncode == 2 and "--to needs --from" in result.stderr


def test_no_dataset_named_is_rejected(cli):
    result = cli.run("load", "bmrs")
    assert result.returncode == 2 and "name at least one --dataset" in result.stderr


def test_a_load_refuses_to_start_when_the_disk_is_short_of_space(cli) -> None:
    result = cli.run(
        "load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01", "--to", "2024-05-02",
        GRIDWAREHOUSE_MIN_FREE_GB="1000000",
    )  # fmt: skip
    assert result.returncode == 1
    assert (
        "GB free on the disk of" in result.stderr and "GRIDWAREHOUSE_MIN_FREE_GB" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not cli.duckdb_path.exists(), "nothing was written"
