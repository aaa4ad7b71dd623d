"""Files a user downloaded by hand (`load dno --file`): every configured DNO and kind loads with
its portal's columns, and a bad file is bad input — one line naming the file, exit 2, no
traceback, nothing written."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import pytest

from loaders.common.records import snake_case
from loaders.errors import UsageError
from loaders.sources.dno import files
from loaders.testing.replay import Fault

from .conftest import RECORDED, ROOT

SYNTHETIC_DNO = ROOT / "tests" / "data" / "synthetic" / "dno"
UKPN_POWERFLOW = (
    RECORDED / "dno/ukpn_powerflow/powerflow_raw_Brighton_Local_33kV_2024-01-01_to_2024-04-01.csv"
)
PORTALS = tomllib.loads((ROOT / "loaders" / "sources" / "dno" / "portals.toml").read_text())
CONFIGURED = [(dno, kind) for dno, entry in PORTALS.items() for kind in entry["datasets"]]


def file_for(dno: str, kind: str) -> Path:
    """The real recording for UKPN powerflow; a synthetic file with the portal's columns else."""
    if (dno, kind) == ("UKPN", "powerflow"):
        return UKPN_POWERFLOW
    return SYNTHETIC_DNO / f"synthetic_{dno}_{kind}.csv"


def csv_records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def load_file(cli, path: Path, dno: str, kind: str):
    return cli.run("load", "dno", "--file", str(path), "--dno", dno, "--dataset", kind)


def assert_bad_input(cli, result, path: Path, problem: str) -> None:
    """Exit 2, one line naming the file and the problem, no traceback, nothing written."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and problem in lines[0], lines[0]
    assert cli.count("ops.load_log") == 0
    assert not cli.query(
        "select table_name from information_schema.tables where table_schema = 'raw_dno'"
    )
    scratch = cli.data_dir / "tmp"
    assert not scratch.exists() or not list(scratch.iterdir())  # no converted leftovers


def test_every_configured_dno_and_kind_has_a_test_file():
    assert len(CONFIGURED) == 16
    missing = [pair for pair in CONFIGURED if not file_for(*pair).exists()]
    assert not missing


@pytest.mark.parametrize(("dno", "kind"), CONFIGURED, ids=[f"{d}.{k}" for d, k in CONFIGURED])
def test_every_configured_dno_and_kind_loads_from_a_file(cli, dno, kind):
    path = file_for(dno, kind)
    records = csv_records(path)
    result = load_file(cli, path, dno, kind)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert cli.query("select dataset, status, rows from ops.load_log") == [
        (f"{dno}.{kind}", "ok", len(records))
    ]
    assert cli.query(f"select count(*), min(dno), max(dno) from raw_dno.{kind}") == [
        (len(records), dno, dno)
    ]
    # each header becomes a snake_case column holding the file's text as it was
    first = next(h for h in records[0] if records[0][h])
    stored = cli.query(f'select "{snake_case(first)}" from raw_dno.{kind}')
    assert sorted(v for (v,) in stored) == sorted(r[first] for r in records)


def test_reloading_a_file_keyed_by_every_column_adds_no_rows(cli):
    path = file_for("SPEN", "connection_queue")
    assert load_file(cli, path, "SPEN", "connection_queue").returncode == 0
    assert load_file(cli, path, "SPEN", "connection_queue").returncode == 0
    assert cli.count("raw_dno.connection_queue") == len(csv_records(path))
    assert [s for (s,) in cli.query("select status from ops.load_log")] == ["ok", "ok"]


def test_with_every_column_as_key_only_identical_rows_are_merged(cli, tmp_path):
    records = csv_records(file_for("NPg", "headroom"))
    path = tmp_path / "synthetic_npg_headroom_with_repeats.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows([*records, records[0]])  # an exact repeat: the same record
        writer.writerow({**records[0], "demand_headroom_mw": "9.9"})  # one value differs
    result = load_file(cli, path, "NPg", "headroom")
    assert result.returncode == 0, result.stderr
    assert cli.count("raw_dno.headroom") == len(records) + 1
    notes = cli.query("select notes from ops.load_log")[0][0]
    assert "1 records repeated a natural key" in notes


def test_an_xlsx_file_of_a_portal_without_keys_loads(cli, tmp_path):
    from openpyxl import Workbook

    records = csv_records(file_for("SSEN", "outages"))
    book = Workbook()
    sheet = book.active
    sheet.append(list(records[0]))
    for record in records:
        sheet.append([v or None for v in record.values()])
    path = tmp_path / "synthetic_ssen_outages.xlsx"
    book.save(path)
    result = load_file(cli, path, "SSEN", "outages")
    assert result.returncode == 0, result.stderr
    assert cli.query("select status, rows from ops.load_log") == [("ok", len(records))]
    assert sorted(r for (r,) in cli.query("select reference from raw_dno.outages")) == sorted(
        r["Reference"] for r in records
    )


def test_a_portal_dataset_without_configured_keys_loads_from_the_portal(cli, replay):
    records = [
        {k: (v or None) for k, v in r.items()} for r in csv_records(file_for("SPEN", "headroom"))
    ]
    spen = "/dno/spen/api/explore/v2.1/catalog/datasets/spen_network_capacity_map/exports/json"
    replay.state.inject(spen, [Fault(status=200, body=json.dumps(records).encode())])
    result = cli.run("load", "dno", "--dno", "SPEN", "--dataset", "headroom")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert cli.query("select status, rows from ops.load_log") == [("ok", len(records))]
    assert cli.count("raw_dno.headroom") == len(records)


# -- bad files ----------------------------------------------------------------------------------


def test_a_latin1_csv_is_bad_input_naming_the_line(cli, tmp_path):
    path = tmp_path / "synthetic_latin1_headroom.csv"
    text = "site_name,voltage_kv\nSynthetic A,11\nSynthetic Caf\u00e9,33\n"
    path.write_bytes(text.encode("latin-1"))
    result = load_file(cli, path, "NPg", "headroom")
    assert_bad_input(cli, result, path, "not UTF-8 text (byte 0xe9 on line 3")


def test_a_bad_byte_after_a_character_split_between_chunks_is_placed_in_the_file(tmp_path):
    # the file is read in chunks of _CHUNK bytes: "é" straddles the first boundary, so the
    # decoder holds its first byte back and reports the bad byte after it in a later chunk
    head = b"site_name,voltage_kv\n" + b"x" * (files._CHUNK - 23) + b"\n"
    path = tmp_path / "synthetic_split_character.csv"
    path.write_bytes(head + "\u00e9".encode() + b"\xff,33\n")
    with pytest.raises(UsageError, match=rf"byte 0xff on line 3, offset {files._CHUNK + 1}\)"):
        files.check_utf8(path)
    path.write_bytes(head + "\u00e9".encode()[:1])
    with pytest.raises(UsageError, match=r"not UTF-8 text \(it ends inside a character\)"):
        files.check_utf8(path)


def test_a_file_that_is_not_a_workbook_is_bad_input(cli, tmp_path):
    path = tmp_path / "synthetic_not_a_workbook.xlsx"
    path.write_text("site_name,voltage_kv\nSynthetic A,11\n")
    result = load_file(cli, path, "UKPN", "headroom")
    assert_bad_input(cli, result, path, "not an Excel workbook (.xlsx)")


def test_an_xlsx_without_the_key_columns_is_bad_input(cli, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["date", "circuit", "mw"])
    book.active.append(["2024-01-01", "SYN-1", 1.5])
    path = tmp_path / "synthetic_powerflow_without_keys.xlsx"
    book.save(path)
    result = load_file(cli, path, "UKPN", "powerflow")
    assert_bad_input(cli, result, path, "no column timestamp, tx_id, which identifies")


def test_a_csv_without_the_key_columns_is_bad_input(cli, tmp_path):
    path = tmp_path / "synthetic_powerflow_without_keys.csv"
    path.write_text("timestamp,circuit,mw\n2024-01-01T00:00:00Z,SYN-1,1.5\n")
    result = load_file(cli, path, "UKPN", "powerflow")
    assert_bad_input(cli, result, path, "no column tx_id, which identifies a UKPN powerflow")


def test_a_ragged_csv_is_bad_input(cli, tmp_path):
    path = tmp_path / "synthetic_ragged.csv"
    path.write_text("site_name,voltage_kv\nSynthetic A,11\nSynthetic B,33,extra,cells\n")
    result = load_file(cli, path, "ENWL", "headroom")
    assert_bad_input(cli, result, path, "not a CSV file that can be read")


def test_headers_that_collide_in_snake_case_are_bad_input(cli, tmp_path):
    path = tmp_path / "synthetic_collision.csv"
    path.write_text("Site Name,site_name\nSynthetic A,Synthetic B\n")
    result = load_file(cli, path, "ENWL", "headroom")
    assert_bad_input(cli, result, path, "would both be stored as site_name")


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", "the file is empty"), (None, "no such file")],
    ids=["empty", "missing"],
)
def test_an_empty_or_missing_file_is_bad_input(cli, tmp_path, content, problem):
    path = tmp_path / "synthetic_headroom.csv"
    if content is not None:
        path.write_bytes(content)
    result = load_file(cli, path, "ENWL", "headroom")
    assert_bad_input(cli, result, path, problem)


def test_a_portal_csv_that_is_not_utf8_is_a_failed_window_with_its_reason(cli, replay):
    """From the portal (CKAN, SSEN) the same bytes are a failed load with the URL, not a crash."""
    base = replay.base_url("dno") + "/ssen"
    listing = {
        "success": True,
        "result": {
            "resources": [
                {
                    "id": "synthetic-resource-1",
                    "name": "synthetic_power_cuts.csv",
                    "url": f"{base}/download/synthetic_power_cuts.csv",
                    "format": "CSV",
                }
            ]
        },
    }
    replay.state.inject("/dno/ssen/package_show", [Fault(200, json.dumps(listing).encode())])
    latin1 = "Reference,Postcode\nSYN-1,Caf\u00e9\n".encode("latin-1")
    replay.state.inject(
        "/dno/ssen/download/synthetic_power_cuts.csv", [Fault(200, latin1, content_type="text/csv")]
    )
    result = cli.run("load", "dno", "--dno", "SSEN", "--dataset", "outages")
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    ((status, error),) = cli.query("select status, error from ops.load_log")
    # worded as for a file given by hand: the first bad byte, its line and its offset
    assert status == "failed"
    assert "synthetic_power_cuts.csv is not UTF-8 text (byte 0xe9 on line 2, offset 28)" in error
    assert cli.count("raw_dno.outages") == 0


def test_a_file_field_named_dno_is_kept_beside_the_loaders_dno_column(cli, tmp_path):
    path = tmp_path / "synthetic_ukpn_headroom_with_dno_field.csv"
    path.write_text("sitename,dno\nSynthetic Grid A,EPN\nSynthetic Primary B,LPN\n")
    result = load_file(cli, path, "UKPN", "headroom")
    assert result.returncode == 0, result.stderr
    assert sorted(cli.query("select dno, source_dno from raw_dno.headroom")) == [
        ("UKPN", "EPN"),
        ("UKPN", "LPN"),
    ]


def test_a_portal_field_named_dno_is_kept_beside_the_loaders_dno_column(cli, replay):
    records = [
        {"sitename": "Synthetic Grid A", "dno": "EPN"},
        {"sitename": "Synthetic Primary B", "dno": "LPN"},
    ]
    ukpn = "/dno/ukpn/api/explore/v2.1/catalog/datasets/ukpn-grid-and-primary-sites/exports/json"
    replay.state.inject(ukpn, [Fault(status=200, body=json.dumps(records).encode())])
    result = cli.run("load", "dno", "--dno", "UKPN", "--dataset", "headroom")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(cli.query("select dno, source_dno from raw_dno.headroom")) == [
        ("UKPN", "EPN"),
        ("UKPN", "LPN"),
    ]
