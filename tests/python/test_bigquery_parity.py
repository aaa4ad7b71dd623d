"""BigQuery parity (`make test-bigquery`): the same recorded data loaded with the real dlt
BigQuery destination into a local BigQuery emulator, built with dbt-bigquery through
`gridwarehouse build`, must give every mart the same rows as the DuckDB run: same row counts and
the same checksum of each mart's key columns. Mismatches fail.

Needs the emulator's own venv (EMULATOR_PYTHON, made by `make test-bigquery`).
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, Cli, make_cli

pytestmark = pytest.mark.bigquery
PROJECT = "test-project"

# Each mart's key columns (its unique test). Every mart must be listed: a new one fails the test
# until its key is added here, so parity cannot silently skip it.
MART_KEYS = {
    "fct_acceptances_by_unit_period": [
        "settlement_date",
        "settlement_period",
        "national_grid_bm_unit",
    ],
    "fct_constraint_actions_daily": ["settlement_date", "national_grid_bm_unit"],
    "fct_constraint_daily_by_region": ["settlement_date", "gsp_group_id"],
    "fct_top_constrained_units": ["national_grid_bm_unit", "constraint_rank"],
    "fct_top_constrained_regions": ["gsp_group_id", "constraint_rank"],
    "fct_regional_balancing_by_period": ["gsp_group_id", "settlement_date", "settlement_period"],
    "fct_regional_daily": ["gsp_group_id", "settlement_date"],
    "fct_dno_balancing_daily": ["dno_group", "activity_date"],
    "fct_dno_balancing_correlation": ["dno_group"],
    "fct_imbalance_by_period": ["settlement_date", "settlement_period", "disbsad_actions"],
    "fct_imbalance_hourly": ["settlement_date", "hour_of_day_uk"],
    "fct_imbalance_daily": ["settlement_date"],
    "dim_bm_unit": ["national_grid_bm_unit", "is_battery", "is_vlp", "gsp_group_id"],
    "audit_battery_classification": ["national_grid_bm_unit", "battery_rule"],
    "fct_battery_fleet_stats": ["breakdown", "group_value", "bmu_count"],
    "fct_battery_daily_activity": ["settlement_date", "national_grid_bm_unit"],
    "fct_generation_mix_by_period": ["settlement_date", "settlement_period", "fuel_type"],
    "fct_actual_generation_per_type_by_period": [
        "settlement_date",
        "settlement_period",
        "psr_type",
    ],
    "fct_interconnector_flows_by_period": [
        "settlement_date",
        "settlement_period",
        "interconnector",
    ],
    "fct_frequency_by_period": ["settlement_date", "settlement_period"],
    "fct_unit_limits_by_period": [
        "national_grid_bm_unit",
        "settlement_date",
        "settlement_period",
        "max_import_limit_mw",
    ],
    "fct_system_limits_by_period": ["settlement_date", "settlement_period"],
    "fct_remit_unavailability_daily": ["event_date", "fuel_type", "affected_unit"],
    "fct_dataset_completeness_daily": ["dataset", "settlement_date", "present_periods"],
    "fct_isone_lmp_hourly": ["location_id", "hour_start_utc", "rt_minus_da_spread"],
    "dim_power_station": [
        "power_station_id",
        "nearest_gsp_id",
        "gsp_group_id",
        "carbon_intensity_year",
    ],
    "bridge_bm_unit_power_station": [
        "bm_unit_id",
        "bm_unit_id_kind",
        "power_station_id",
        "in_registry",
    ],
    "fct_carbon_intensity_by_period": ["settlement_date", "settlement_period", "fuel_types"],
    "fct_carbon_intensity_5min": ["interval_start_utc", "fuel_types"],
    "fct_carbon_intensity_hourly": ["settlement_date", "hour_of_day_uk", "periods"],
    "fct_carbon_intensity_daily": ["settlement_date", "periods"],
    "fct_balancing_carbon_daily": [
        "settlement_date",
        "national_grid_bm_unit",
        "acceptance_number",
        "reason",
        "emission_factor_source",
    ],
    "fct_balancing_carbon_daily_by_region": [
        "settlement_date",
        "gsp_group_id",
        "reason",
        "acceptances",
    ],
    "fct_isone_load_vs_generation_hourly": [
        "hour_start_utc",
        "utc_offset",
        "load_mw",
        "generation_mw",
        "mix_instants",
    ],
}
# marts no recording fills (FREQ, ISO-NE LMPs, REMIT message contents): empty on both sides;
# every other mart must have rows, or comparing it would prove nothing
EMPTY_WITHOUT_A_RECORDING = {
    "fct_frequency_by_period",
    "fct_isone_lmp_hourly",
    "fct_remit_unavailability_daily",
}
LOADS = [
    (
        "load",
        "bmrs",
        "--dataset",
        "BOALF",
        "--dataset",
        "MILS",
        "--dataset",
        "BMUNITS",
        "--dataset",
        "ATL",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-03",
    ),
    (
        "load",
        "bmrs",
        "--dataset",
        "BALANCING_NONBM_DISBSAD_DETAILS",
        "--from",
        "2024-05-01T18:30",
        "--to",
        "2024-05-01T19:00",
    ),
    # the recorded FUELHH periods and FUELINST instant (carbon intensity marts)
    ("load", "bmrs", "--dataset", "FUELHH", "--from", "2025-02-06", "--to", "2025-02-07"),
    ("load", "bmrs", "--dataset", "FUELINST", "--from", "2024-02-12", "--to", "2024-02-13"),
    # the recorded AGPT periods (the nested per-type lists, unnested on BigQuery as on DuckDB)
    (
        "load",
        "bmrs",
        "--dataset",
        "GENERATION_ACTUAL_PER_TYPE",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-04",
    ),
    ("load", "neso", "--dataset", "historic_demand"),
    ("load", "dno", "--dno", "UKPN", "--dataset", "powerflow"),
    # the recorded spring-forward day and its neighbours
    (
        "load",
        "isone",
        "--dataset",
        "hourly_system_load",
        "--dataset",
        "fuel_mix",
        "--from",
        "2024-03-09",
        "--to",
        "2024-03-11",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def emulator():
    python = os.environ.get("EMULATOR_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail(
            "EMULATOR_PYTHON is not set to the emulator venv's python: run `make test-bigquery`"
        )
    rest, grpc = _free_port(), _free_port()
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"bqemulator-{rest}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            python,
            str(ROOT / "tests/bigquery/run_bqemulator.py"),
            "start",
            "--rest-host",
            "127.0.0.1",
            "--rest-port",
            str(rest),
            "--grpc-port",
            str(grpc),
            "--project",
            PROJECT,
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{rest}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"{url}/bigquery/v2/projects/{PROJECT}/datasets", timeout=2).status_code
                == 200
            ):
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"the BigQuery emulator did not start; see {log.name}")
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def bigquery_env(emulator: str) -> dict[str, str]:
    return {
        "GRIDWAREHOUSE_TARGET": "bigquery",
        "GRIDWAREHOUSE_BQ_PROJECT": PROJECT,
        "GRIDWAREHOUSE_BQ_LOCATION": "US",
        "BIGQUERY_EMULATOR_HOST": emulator,
        "GRIDWAREHOUSE_DBT_PROFILES_DIR": str(ROOT / "tests/bigquery"),
    }


def load_and_build(cli: Cli, **env: str) -> None:
    for args in LOADS:
        result = cli.run(*args, **env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    result = cli.run("build", **env)
    assert result.returncode == 0, result.stdout[-6000:]


@pytest.fixture(scope="module")
def both(tmp_path_factory, replay, emulator):
    duck = make_cli(tmp_path_factory.mktemp("duckdb"), replay)
    load_and_build(duck)
    bq = make_cli(tmp_path_factory.mktemp("bigquery"), replay)
    load_and_build(bq, **bigquery_env(emulator))
    return duck, emulator


def _normal(value: object) -> object:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, Decimal)):
        return round(float(value), 6)
    return value


def checksum(rows: list[tuple]) -> str:
    normal = sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)
    return hashlib.sha256(repr(normal).encode()).hexdigest()


def bigquery_rows(emulator: str, sql: str) -> list[tuple]:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulator),
    )
    return [
        tuple(row.values()) for row in client.query(sql).result()
    ]  # jobs.insert, qualified names


def test_every_mart_has_a_key_listed(both):
    duck, _ = both
    marts = {
        t
        for (t,) in duck.query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert marts == set(MART_KEYS), f"add keys for {sorted(marts - set(MART_KEYS))}"


@pytest.mark.parametrize("mart", sorted(MART_KEYS))
def test_mart_rows_and_key_checksum_match_duckdb(both, mart):
    duck, emulator = both
    keys = ", ".join(MART_KEYS[mart])
    duck_rows = duck.query(f"select {keys} from marts.{mart}")
    assert duck_rows or mart in EMPTY_WITHOUT_A_RECORDING, f"{mart}: no rows on DuckDB to compare"
    bq_rows = bigquery_rows(emulator, f"select {keys} from `{PROJECT}.marts.{mart}`")
    assert len(bq_rows) == len(duck_rows), (
        f"{mart}: {len(bq_rows)} rows on BigQuery, {len(duck_rows)} on DuckDB"
    )
    assert checksum(bq_rows) == checksum(duck_rows), f"{mart}: key columns differ"


def test_ops_tables_live_in_the_warehouse_on_bigquery_too(both):
    duck, emulator = both
    bq = bigquery_rows(emulator, f"select dataset, status, rows from `{PROJECT}.ops.load_log`")
    assert checksum(bq) == checksum(duck.query("select dataset, status, rows from ops.load_log"))


def test_missing_bigquery_settings_name_the_variable(cli):
    result = cli.run(
        "load",
        "bmrs",
        "--dataset",
        "BOALF",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-02",
        GRIDWAREHOUSE_TARGET="bigquery",
    )
    assert result.returncode == 2
    assert "needs GRIDWAREHOUSE_BQ_PROJECT" in result.stderr
    assert cli.run("build", GRIDWAREHOUSE_TARGET="bigquery").returncode == 2
