"""Bad input: a clear message, exit code 2, and no rows written."""

from __future__ import annotations

import socket

import pytest

RAW_TABLES = ("raw_bmrs.boalf", "raw_bmrs.fuelinst", "raw_bmrs.mils")


def assert_nothing_loaded(cli):
    assert all(cli.count(t) == 0 for t in RAW_TABLES)


def test_unknown_dataset_suggests_close_names_in_one_short_line(cli):
    result = cli.run(
        "load", "bmrs", "--dataset", "FUELINS", "--from", "2024-05-01", "--to", "2024-05-02"
    )
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and len(line) < 300, line
    assert line.startswith("gridwarehouse: error: unknown dataset FUELINS; did you mean FUELINST")
    assert line.endswith("(`gridwarehouse datasets list` shows all)")
    assert not cli.duckdb_path.exists()


def test_unknown_dataset_with_nothing_close_still_says_where_to_look(cli):
    result = cli.run(
        "load", "bmrs", "--dataset", "XYZZY", "--from", "2024-05-01", "--to", "2024-05-02"
    )
    assert result.returncode == 2
    assert "unknown dataset XYZZY (`gridwarehouse datasets list` shows all)" in result.stderr


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


def test_offline_load_says_each_failing_endpoint_once_with_the_right_counts(cli):
    """No network: the first window fails with one clear line, the rest of the host's windows
    are skipped (asked again next run) without repeating it, and the counts say so: exit 1,
    never 'committed … windows' for windows that loaded nothing, no per-retry noise."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/bmrs"
        result = cli.run(
            "load", "bmrs", "--dataset", "BOALF", "--dataset", "FUELINST",
            "--from", "2024-05-01", "--to", "2024-05-03", GRIDWAREHOUSE_BMRS_BASE_URL=url,
        )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert output.count(f"{url}/datasets/") == 2, output  # the failed window: progress + summary
    assert "1 FAILED" in result.stdout and "FAILED" in result.stderr
    assert "recorded 4 windows in ops.load_log, none loaded: 1 failed, 3 skipped" in result.stderr
    assert "committed" not in result.stderr and "retry" not in result.stderr
    assert "Traceback" not in output
    assert cli.query("select status, count(*) from ops.load_log group by 1 order by 1") == [
        ("failed", 1),
        ("skipped", 3),
    ]


def test_readme_states_the_retry_defaults_the_code_uses():
    """As the README's guides state them: the settings table (docs/configuration.md) and the
    faults section (docs/operating.md)."""
    from pathlib import Path

    from loaders.common.http import CONNECT_RETRIES
    from loaders.settings import load_settings

    docs = Path(__file__).resolve().parents[2] / "docs"
    row = next(
        line
        for line in (docs / "configuration.md").read_text().splitlines()
        if line.startswith("| `GRIDWAREHOUSE_HTTP_MAX_RETRIES`")
    )
    default = load_settings(env={}, cwd=Path("/nonexistent")).http_max_retries
    assert row.rstrip(" |").endswith(f"`{default}`")
    assert f"retried at most {CONNECT_RETRIES} times" in row
    operating = (docs / "operating.md").read_text()
    faults = " ".join(operating.split("**Retries.**")[1].split("\n\n")[0].split())
    assert f"`GRIDWAREHOUSE_HTTP_MAX_RETRIES` ({default}) times" in faults
    assert CONNECT_RETRIES == 2 and "an unknown host only twice" in faults
