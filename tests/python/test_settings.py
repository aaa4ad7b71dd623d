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
