"""Settings: environment over .env over gridwarehouse.toml; secrets never from the file."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from loaders.errors import ConfigError
from loaders.settings import IRIS_NAMESPACE, Settings, load_settings


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


# -- pydantic-settings (issue 20): one line naming each variable; layers; env-only settings ----


def test_a_bad_integer_names_its_variable_in_one_line(tmp_path: Path):
    with pytest.raises(ConfigError) as raised:
        load_settings(env={"GRIDWAREHOUSE_COMMIT_ROWS": "many"}, cwd=tmp_path)
    assert str(raised.value) == "GRIDWAREHOUSE_COMMIT_ROWS='many' is not a int"


def test_every_malformed_setting_is_named_on_the_same_line(tmp_path: Path):
    (tmp_path / "gridwarehouse.toml").write_text("[iris]\nbatch_size = 0\n")
    env = {
        "GRIDWAREHOUSE_TARGET": "postgres",
        "SMTP_PORT": "mail",
        "GRIDWAREHOUSE_NESO_BASE_URL": "api.neso.energy",
        "GRIDWAREHOUSE_DATA_DIR": "/srv/gw",
    }
    with pytest.raises(ConfigError) as raised:
        load_settings(env=env, cwd=tmp_path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.split("; ") == [
        "GRIDWAREHOUSE_TARGET='postgres': use one of duckdb, bigquery",
        "SMTP_PORT='mail' is not a int",
        "GRIDWAREHOUSE_NESO_BASE_URL='api.neso.energy' is not an http(s) URL with a host",
        "GRIDWAREHOUSE_IRIS_BATCH_SIZE=0 must be at least 1",
    ]


@pytest.mark.parametrize(
    "environment, dotenv, toml, expected",
    [
        ("9", "5", "2", 9),
        (None, "5", "2", 5),
        (None, None, "2", 2),
        (None, None, None, 4),
        ("", "5", "2", 5),  # an empty variable is an unset one
        ("", None, "2", 2),
    ],
)
def test_environment_over_dotenv_over_toml_over_the_default(
    tmp_path: Path, environment, dotenv, toml, expected
):
    if dotenv is not None:
        (tmp_path / ".env").write_text(f"GRIDWAREHOUSE_BMRS_CONCURRENCY={dotenv}\n")
    if toml is not None:
        (tmp_path / "gridwarehouse.toml").write_text(f"[bmrs]\nconcurrency = {toml}\n")
    env = {} if environment is None else {"GRIDWAREHOUSE_BMRS_CONCURRENCY": environment}
    assert load_settings(env=env, cwd=tmp_path).bmrs_concurrency == expected


def test_the_toml_file_sets_each_setting_by_its_name_without_the_prefix(tmp_path: Path):
    (tmp_path / "gridwarehouse.toml").write_text(
        'data_dir = "/srv/gw"\nretry_lookback = "2d"\n'
        '[neso]\nbase_url = "http://neso.test/api/"\nrequests_per_s = 0.5\n'
        '[run]\nsources = "bmrs,neso"\nbmrs_datasets = "FREQ, BOALF"\nevery = "neso=2h"\n'
        "[iris]\nflush_seconds = 3\nbackfill = false\n"
    )
    s = load_settings(env={"GRIDWAREHOUSE_ISONE_REQUESTS_PER_S": "0"}, cwd=tmp_path)
    assert str(s.duckdb_path) == "/srv/gw/gridwarehouse.duckdb"  # follows the file's data_dir
    assert s.retry_lookback.days == 2
    assert s.base_url("neso") == "http://neso.test/api"
    assert s.base_url("bmrs") == "https://data.elexon.co.uk/bmrs/api/v1"
    assert s.rates == {"neso": 0.5, "dno": 2.0, "isone": 0.0}  # file, default, environment
    assert s.run_sources == ("bmrs", "neso")
    assert s.run_datasets == {"bmrs": ("FREQ", "BOALF")}
    assert (s.run_every["neso"].seconds, s.run_every["bmrs"].seconds) == (7200, 900)
    assert (s.iris_flush_seconds, s.iris_backfill) == (3.0, False)


def test_environment_only_settings_are_not_read_from_the_toml_file(tmp_path: Path):
    (tmp_path / "gridwarehouse.toml").write_text(
        'alert_email = "ops@example.org"\n[dno]\nukpn_base_url = "http://ukpn.test"\n'
        '[smtp]\nhost = "smtp.example.org"\n[iris]\nnamespace = "localhost"\n'
    )
    from_file = load_settings(env={}, cwd=tmp_path)
    assert from_file.alert_email == ()
    assert from_file.dno_base_urls == {}
    assert (from_file.smtp_host, from_file.iris_namespace) == (None, IRIS_NAMESPACE)
    (tmp_path / ".env").write_text(
        "GRIDWAREHOUSE_ALERT_EMAIL=ops@example.org\nGRIDWAREHOUSE_DNO_UKPN_BASE_URL=http://ukpn.test/\n"
        "SMTP_HOST=smtp.example.org\nIRIS_NAMESPACE=localhost:5672\n"
    )
    from_env = load_settings(env={}, cwd=tmp_path)
    assert from_env.alert_email == ("ops@example.org",)
    assert from_env.dno_base_urls == {"UKPN": "http://ukpn.test"}
    assert (from_env.smtp_host, from_env.iris_namespace) == ("smtp.example.org", "localhost:5672")


@pytest.mark.parametrize(
    "toml, variable",
    [
        ('[bmrs]\napi_keys = "k"\n', "BMRS_API_KEYS"),
        ('[isone]\nusername = "u"\n', "ISONE_USERNAME"),
        ('[isone]\npassword = "p"\n', "ISONE_PASSWORD"),
        ('nged_api_token = "t"\n', "NGED_API_TOKEN"),
        ('[iris]\nconnection_string = "Endpoint=sb://x"\n', "IRIS_CONNECTION_STRING"),
        ('alert_webhook = "https://hooks.example/s3cret"\n', "ALERT_WEBHOOK"),
    ],
)
def test_every_secret_is_refused_from_the_toml_file(tmp_path: Path, toml, variable):
    (tmp_path / "gridwarehouse.toml").write_text(toml)
    with pytest.raises(ConfigError, match=f"sets {variable}: secrets are read from the env") as e:
        load_settings(env={}, cwd=tmp_path)
    assert "s3cret" not in str(e.value)


def test_secrets_come_from_the_environment_and_dotenv_and_are_never_shown(tmp_path: Path):
    (tmp_path / ".env").write_text("NGED_API_TOKEN=dotenv-t0ken\nBMRS_API_KEYS=dotenv-k3y\n")
    s = load_settings(env={"BMRS_API_KEYS": "env-k3y", "PATH": "/usr/bin"}, cwd=tmp_path)
    assert s.secrets == {"NGED_API_TOKEN": "dotenv-t0ken", "BMRS_API_KEYS": "env-k3y"}
    shown = repr(s) + str(s) + s.model_dump_json() + repr(s.model_dump())
    assert "t0ken" not in shown and "k3y" not in shown


def test_gridwarehouse_config_in_dotenv_names_the_toml_file(tmp_path: Path):
    (tmp_path / "elsewhere.toml").write_text('log_level = "warning"\n')
    (tmp_path / "gridwarehouse.toml").write_text('log_level = "debug"\n')
    (tmp_path / ".env").write_text(f"GRIDWAREHOUSE_CONFIG={tmp_path / 'elsewhere.toml'}\n")
    assert load_settings(env={}, cwd=tmp_path).log_level == "WARNING"


def test_replace_gives_a_changed_copy_and_settings_stay_frozen(tmp_path: Path):
    base = load_settings(env={"BMRS_API_KEYS": "k"}, cwd=tmp_path)
    moved = base.replace(data_dir=tmp_path / "demo", target="bigquery")
    assert (moved.data_dir, moved.target, moved.secret("BMRS_API_KEYS")) == (
        tmp_path / "demo",
        "bigquery",
        "k",
    )
    assert (base.data_dir, base.target) == (Path("data"), "duckdb")
    with pytest.raises(ValidationError, match="frozen"):
        base.target = "bigquery"  # type: ignore[misc]


def test_settings_reach_a_spawned_process_whole(tmp_path: Path):
    """The IRIS flush worker is a spawned process: its settings arrive pickled."""
    s = load_settings(
        env={"IRIS_CLIENT_SECRET": "s", "GRIDWAREHOUSE_RUN_EVERY": "neso=2h"}, cwd=tmp_path
    )
    copy = pickle.loads(pickle.dumps(s))
    assert copy == s and copy.secret("IRIS_CLIENT_SECRET") == "s"


def test_a_malformed_setting_is_exit_2_with_one_line_naming_each_variable(cli):
    result = cli.run("status", GRIDWAREHOUSE_COMMIT_ROWS="many", SMTP_STARTTLS="maybe")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [  # in the order of the settings
        "gridwarehouse: error: SMTP_STARTTLS='maybe': use true or false; "
        "GRIDWAREHOUSE_COMMIT_ROWS='many' is not a int"
    ]


def test_settings_built_directly_read_the_same_layers(tmp_path: Path, monkeypatch):
    (tmp_path / "gridwarehouse.toml").write_text('[bmrs]\nbase_url = "http://toml/bmrs"\n')
    (tmp_path / ".env").write_text("GRIDWAREHOUSE_LOG_LEVEL=warning\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRIDWAREHOUSE_COMMIT_ROWS", "10")
    direct = Settings()
    assert (direct.base_url("bmrs"), direct.log_level, direct.commit_rows) == (
        "http://toml/bmrs",
        "WARNING",
        10,
    )
    assert direct == load_settings()
