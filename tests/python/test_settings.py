"""Settings: environment over .env over gridwarehouse.toml; secrets never from the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.errors import ConfigError
from loaders.settings import load_settings


def test_defaults_match_the_contract(tmp_path: Path):
    s = load_settings(env={}, cwd=tmp_path)
    assert (s.target, str(s.duckdb_path), str(s.data_dir)) == (
        "duckdb",
        "data/gridwarehouse.duckdb",
        "data",
    )
    assert s.base_url("bmrs") == "https://data.elexon.co.uk/bmrs/api/v1"
    assert str(s.pipelines_dir) == "data/pipelines"


def test_environment_wins_over_dotenv_which_wins_over_toml(tmp_path: Path):
    (tmp_path / "gridwarehouse.toml").write_text(
        'duckdb_path = "from-toml.duckdb"\nlog_level = "DEBUG"\n'
        '[bmrs]\nbase_url = "http://toml/bmrs"\n'
    )
    (tmp_path / ".env").write_text(
        "GRIDWAREHOUSE_DUCKDB_PATH=from-dotenv.duckdb\nBMRS_API_KEYS=k1,k2\n"
    )
    s = load_settings(env={"GRIDWAREHOUSE_LOG_LEVEL": "ERROR"}, cwd=tmp_path)
    assert str(s.duckdb_path) == "from-dotenv.duckdb"
    assert s.log_level == "ERROR"
    assert s.base_url("bmrs") == "http://toml/bmrs"
    assert s.secret("BMRS_API_KEYS") == "k1,k2"
    assert "k1" not in repr(s)


def test_data_dir_moves_the_default_duckdb_file(tmp_path: Path):
    s = load_settings(env={"GRIDWAREHOUSE_DATA_DIR": "/srv/gw"}, cwd=tmp_path)
    assert str(s.duckdb_path) == "/srv/gw/gridwarehouse.duckdb"


def test_secrets_in_the_toml_file_are_refused(tmp_path: Path):
    (tmp_path / "gridwarehouse.toml").write_text('[iris]\nclient_secret = "oops"\n')
    with pytest.raises(ConfigError, match=r"IRIS_CLIENT_SECRET.*environment"):
        load_settings(env={}, cwd=tmp_path)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"GRIDWAREHOUSE_TARGET": "postgres"}, "GRIDWAREHOUSE_TARGET='postgres'"),
        ({"GRIDWAREHOUSE_BMRS_BASE_URL": "data.elexon.co.uk"}, "is not an http"),
        (
            {"GRIDWAREHOUSE_HTTP_TIMEOUT_S": "soon"},
            "GRIDWAREHOUSE_HTTP_TIMEOUT_S='soon' is not a float",
        ),
    ],
)
def test_bad_settings_name_the_variable(tmp_path: Path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env, cwd=tmp_path)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"GRIDWAREHOUSE_BMRS_WINDOWS": "FREQ=banana"}, r"GRIDWAREHOUSE_BMRS_WINDOWS\[FREQ\]"),
        ({"GRIDWAREHOUSE_BMRS_WINDOWS": "=1h"}, "GRIDWAREHOUSE_BMRS_WINDOWS: '=1h'"),
        ({"GRIDWAREHOUSE_HTTP_TIMEOUT_S": "0"}, "GRIDWAREHOUSE_HTTP_TIMEOUT_S='0' must be more"),
        (
            {"GRIDWAREHOUSE_HTTP_TIMEOUT_S": "inf"},
            "GRIDWAREHOUSE_HTTP_TIMEOUT_S='inf' is not a fin",
        ),
        ({"GRIDWAREHOUSE_HTTP_MAX_RETRIES": "-1"}, "GRIDWAREHOUSE_HTTP_MAX_RETRIES='-1' must be"),
        ({"GRIDWAREHOUSE_HTTP_RETRY_AFTER_MAX_S": "x"}, "GRIDWAREHOUSE_HTTP_RETRY_AFTER_MAX_S"),
        ({"GRIDWAREHOUSE_BMRS_CONCURRENCY": "0"}, "GRIDWAREHOUSE_BMRS_CONCURRENCY='0'"),
        ({"GRIDWAREHOUSE_BMRS_REQUESTS_PER_S": "-2"}, "GRIDWAREHOUSE_BMRS_REQUESTS_PER_S"),
        ({"GRIDWAREHOUSE_NESO_REQUESTS_PER_S": "nan"}, "GRIDWAREHOUSE_NESO_REQUESTS_PER_S"),
        ({"GRIDWAREHOUSE_COMMIT_ROWS": "0"}, "GRIDWAREHOUSE_COMMIT_ROWS"),
        ({"GRIDWAREHOUSE_LOG_KEEP_DAYS": "0"}, "GRIDWAREHOUSE_LOG_KEEP_DAYS"),
        ({"GRIDWAREHOUSE_IRIS_FLUSH_SECONDS": "-1"}, "GRIDWAREHOUSE_IRIS_FLUSH_SECONDS"),
        ({"GRIDWAREHOUSE_DUCKDB_MEMORY_LIMIT": "lots"}, "GRIDWAREHOUSE_DUCKDB_MEMORY_LIMIT"),
        ({"GRIDWAREHOUSE_DUCKDB_MEMORY_LIMIT": "80%"}, "a memory size like 512MB"),
        (
            {"GRIDWAREHOUSE_BMRS_BASE_URL": "https://"},
            "GRIDWAREHOUSE_BMRS_BASE_URL='https:' is not",
        ),
        ({"GRIDWAREHOUSE_NESO_BASE_URL": "http://h:port/x"}, "GRIDWAREHOUSE_NESO_BASE_URL"),
        ({"GRIDWAREHOUSE_DNO_UKPN_BASE_URL": "ukpn.example"}, "GRIDWAREHOUSE_DNO_UKPN_BASE_URL"),
        ({"GRIDWAREHOUSE_STALE_AFTER": "bmsr=2h"}, "GRIDWAREHOUSE_STALE_AFTER: 'bmsr'"),
        ({"GRIDWAREHOUSE_RUN_EVERY": "neso=2x"}, r"GRIDWAREHOUSE_RUN_EVERY\[neso\]"),
        ({"GRIDWAREHOUSE_RUN_EVERY": "nesso=2h"}, "GRIDWAREHOUSE_RUN_EVERY: 'nesso'"),
        ({"GRIDWAREHOUSE_RETRY_LOOKBACK": "7"}, "GRIDWAREHOUSE_RETRY_LOOKBACK: '7' is not a dur"),
        ({"GRIDWAREHOUSE_BMRS_API_KEY_PARAM": "api key"}, "GRIDWAREHOUSE_BMRS_API_KEY_PARAM"),
        ({"GRIDWAREHOUSE_ISONE_API_KEY_HEADER": "X:Key"}, "GRIDWAREHOUSE_ISONE_API_KEY_HEADER"),
        ({"GRIDWAREHOUSE_BQ_DATASET_PREFIX": "my-prefix"}, "GRIDWAREHOUSE_BQ_DATASET_PREFIX"),
        ({"GRIDWAREHOUSE_ALERT_EMAIL": "ops, x@y.z"}, "GRIDWAREHOUSE_ALERT_EMAIL: ops is not"),
        ({"SMTP_PORT": "70000"}, "SMTP_PORT='70000' is not a port"),
        ({"IRIS_CLIENT_SECRET_EXPIRES": "2027-03-31garbage"}, "IRIS_CLIENT_SECRET_EXPIRES"),
        ({"IRIS_NAMESPACE": "sb://ns/"}, "IRIS_NAMESPACE='sb://ns/'"),
        ({"GRIDWAREHOUSE_CONFIG": "/no/such/gridwarehouse.toml"}, "GRIDWAREHOUSE_CONFIG=.*no such"),
    ],
)
def test_every_malformed_setting_names_its_variable(tmp_path: Path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env, cwd=tmp_path)


def test_a_malformed_webhook_is_refused_without_echoing_it(tmp_path: Path):
    hook = "hooks.example/services/T0/B0/s3cretw3bhook"
    with pytest.raises(ConfigError, match="GRIDWAREHOUSE_ALERT_WEBHOOK") as raised:
        load_settings(env={"GRIDWAREHOUSE_ALERT_WEBHOOK": hook}, cwd=tmp_path)
    assert "s3cretw3bhook" not in str(raised.value)


def test_a_boolean_in_the_toml_file_is_not_a_number(tmp_path: Path):
    (tmp_path / "gridwarehouse.toml").write_text("commit_rows = true\n")
    with pytest.raises(ConfigError, match="GRIDWAREHOUSE_COMMIT_ROWS=True is not a int"):
        load_settings(env={}, cwd=tmp_path)


def test_well_formed_settings_are_accepted(tmp_path: Path):
    settings = load_settings(
        env={
            "GRIDWAREHOUSE_DUCKDB_MEMORY_LIMIT": "1.5GB",
            "GRIDWAREHOUSE_STALE_AFTER": "bmrs=2h,bmrs.BOD=30m",
            "GRIDWAREHOUSE_HTTP_RETRY_AFTER_MAX_S": "900",
            "IRIS_CLIENT_SECRET_EXPIRES": "2027-03-31T00:00:00Z",
            "SMTP_PORT": "465",
            "GRIDWAREHOUSE_ALERT_EMAIL": "ops@example.org",
            "GRIDWAREHOUSE_RETRY_LOOKBACK": "36h",
        },
        cwd=tmp_path,
    )
    assert settings.http_retry_after_max_s == 900.0
    assert settings.retry_lookback.total_seconds() == 36 * 3600
    assert settings.stale_after["bmrs.bod"].total_seconds() == 1800
    assert str(settings.iris_secret_expires) == "2027-03-31"
