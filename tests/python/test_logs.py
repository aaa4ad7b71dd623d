"""Logs: readable console lines, JSON lines in daily files kept N days, secrets never written."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from loaders.logs import Redactor, prune_logs, setup_logging
from loaders.settings import load_settings

from .conftest import Cli

SECRET = "s3cr3t-Token-value-42"


def test_redactor_masks_values_pairs_headers_and_url_passwords() -> None:
    redact = Redactor([SECRET])
    text = redact(
        f"GET https://x/api?APIKey=abc123&from=1 failed; token={SECRET}; "
        "Endpoint=sb://ns/;SharedAccessKeyName=k;SharedAccessKey=Zm9vYmFy= "
        "Authorization: Basic dXNlcjpwYXNz https://user:hunter2@host/path"
    )
    for leaked in (SECRET, "abc123", "Zm9vYmFy", "dXNlcjpwYXNz", "hunter2"):
        assert leaked not in text
    assert "from=1" in text and "SharedAccessKeyName=k" in text


def test_after_a_colon_only_credential_like_values_are_masked() -> None:
    redact = Redactor([])
    prose = "the ckan portal needs an API token: set NGED_API_TOKEN"
    assert redact(prose) == prose
    assert redact("X-Api-Key: abc123") == "X-Api-Key: ***"
    assert redact("token: aVeryLongOpaqueCredential") == "token: ***"


def test_secrets_are_masked_in_console_and_file_even_in_exceptions(
    tmp_path: Path, capsys: object
) -> None:
    env = {
        "GRIDWAREHOUSE_DATA_DIR": str(tmp_path),
        "ISONE_PASSWORD": SECRET,
        "BMRS_API_KEYS": "first-key-1111,second-key-2222",
    }
    settings = load_settings(env=env, cwd=tmp_path)
    setup_logging(settings, "INFO", command="test")
    log = logging.getLogger("loaders.test")
    try:
        raise RuntimeError(f"login refused for password {SECRET} (key second-key-2222)")
    except RuntimeError:
        log.exception("request failed: https://api/x?APIKey=first-key-1111")
    log.info("plain line")
    for handler in logging.getLogger().handlers:
        handler.flush()
    console = capsys.readouterr().err  # type: ignore[attr-defined]
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        json.loads(x)
        for x in (tmp_path / "logs" / f"gridwarehouse-{day}.jsonl").read_text().splitlines()
    ]
    written = console + json.dumps(lines)
    for leaked in (SECRET, "first-key-1111", "second-key-2222"):
        assert leaked not in written
    assert "RuntimeError: login refused for password ***" in console
    failed = next(x for x in lines if x["message"].startswith("request failed"))
    assert failed["level"] == "ERROR" and failed["command"] == "test"
    assert "RuntimeError" in failed["exception"] and "***" in failed["exception"]
    assert any(x["message"] == "plain line" for x in lines)
    logging.getLogger().handlers.clear()


def test_daily_files_older_than_the_keep_period_are_removed(tmp_path: Path) -> None:
    for day in ("2026-11-01", "2026-11-12", "2026-11-13", "2026-11-26"):
        (tmp_path / f"gridwarehouse-{day}.jsonl").write_text("{}\n")
    removed = prune_logs(tmp_path, 14, today=datetime(2026, 11, 26, tzinfo=UTC))
    assert sorted(p.name for p in removed) == [
        "gridwarehouse-2026-11-01.jsonl",
        "gridwarehouse-2026-11-12.jsonl",
    ]


def test_a_failing_cli_run_keeps_its_api_key_out_of_the_logs(cli: Cli) -> None:
    key = "cli-secret-key-7777"
    result = cli.run(
        "load", "bmrs", "--dataset", "BOALF", "--from", "2024-05-01", "--to", "2024-05-02",
        BMRS_API_KEYS=key, GRIDWAREHOUSE_BMRS_BASE_URL="http://127.0.0.1:9/bmrs",
        GRIDWAREHOUSE_LOG_LEVEL="DEBUG",
    )  # fmt: skip
    assert result.returncode == 1  # a load that failed (CONTRACTS.md), not bad input
    files = list((cli.data_dir / "logs").glob("gridwarehouse-*.jsonl"))
    assert files, "the run wrote a daily log file"
    text = "".join(f.read_text() for f in files) + result.stdout + result.stderr
    assert "127.0.0.1:9" in text  # the failure is logged...
    assert key not in text  # ...without the key
