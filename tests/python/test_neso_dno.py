"""NESO and DNO portals against the replay server on recorded real files; refusals; seeds."""

from __future__ import annotations

import csv
import json

import pytest

from loaders.testing.replay import Fault, RecordSet

from .conftest import RECORDED

NESO_FILE = RECORDED / "neso/historic_demand/historic_demand_year_2023.csv"
UKPN_FILE = (
    RECORDED / "dno/ukpn_powerflow/powerflow_raw_Brighton_Local_33kV_2024-01-01_to_2024-04-01.csv"
)
UKPN_EXPORT = "/dno/ukpn/api/explore/v2.1/catalog/datasets/ukpn-33kv-circuit-operational-data-half-hourly/exports/json"


def csv_rows(path) -> int:
    with path.open() as fh:
        return sum(1 for _ in csv.DictReader(fh))


# -- NESO ---------------------------------------------------------------------------------------


def test_neso_historic_demand_loads_every_recorded_row(cli):
    result = cli.run("load", "neso", "--dataset", "historic_demand")
    assert result.returncode == 0, result.stdout + result.stderr
    assert cli.count("raw_neso.historic_demand") == csv_rows(NESO_FILE) == 17520
    row = cli.query(
        "select nd, tsd, _resource_id from raw_neso.historic_demand "
        "where settlement_date = '2023-01-01' and settlement_period = 1"
    )
    assert row == [(21043, 24680, "00000000-synthetic-resource-demanddata-2023")]


def test_neso_reload_changes_nothing_and_an_unchanged_resource_is_skipped(cli):
    assert cli.run("load", "neso", "--dataset", "historic_demand").returncode == 0
    again = cli.run("load", "neso", "--dataset", "historic_demand")
    assert "every resource is loaded at its latest version" in again.stdout
    forced = cli.run("load", "neso", "--dataset", "historic_demand", "--force")
    assert forced.returncode == 0 and "17,520 rows" in forced.stdout
    assert cli.count("raw_neso.historic_demand") == 17520


def test_neso_clock_change_days_keep_46_and_50_periods(cli):
    assert cli.run("load", "neso", "--dataset", "historic_demand").returncode == 0
    days = dict(
        cli.query(
            "select settlement_date::varchar, count(*) from raw_neso.historic_demand "
            "where settlement_date in ('2023-03-26', '2023-10-29') group by 1"
        )
    )
    assert days == {"2023-03-26": 46, "2023-10-29": 50}


def test_neso_unknown_dataset_and_range_are_bad_input(cli):
    unknown = cli.run("load", "neso", "--dataset", "historic_demnd")
    assert unknown.returncode == 2 and "did you mean historic_demand" in unknown.stderr
    ranged = cli.run("load", "neso", "--dataset", "historic_demand", "--from", "2024-01-01")
    assert ranged.returncode == 2 and "--from/--to do not apply" in ranged.stderr


def test_neso_missing_package_is_recorded_not_found(cli):
    result = cli.run("load", "neso", "--dataset", "bsuos")
    assert result.returncode == 1
    assert cli.query("select dataset, status from ops.load_log") == [("bsuos", "not_found")]


# -- DNO ----------------------------------------------------------------------------------------


def test_dno_powerflow_loads_every_recorded_row_with_its_dno(cli):
    result = cli.run("load", "dno", "--dno", "UKPN", "--dataset", "powerflow")
    assert result.returncode == 0, result.stdout + result.stderr
    assert cli.count("raw_dno.powerflow") == csv_rows(UKPN_FILE) == 8820
    assert cli.query("select distinct dno from raw_dno.powerflow") == [("UKPN",)]
    again = cli.run("load", "dno", "--dno", "UKPN", "--dataset", "powerflow")
    assert again.returncode == 0 and cli.count("raw_dno.powerflow") == 8820


def test_a_refusing_portal_names_the_variable_and_contact_while_others_load(cli, replay):
    spen = "/dno/spen/api/explore/v2.1/catalog/datasets/spen_network_capacity_map/exports/json"
    replay.state.inject(spen, [Fault(status=403, body=b'{"error": "You do not have access"}')])
    result = cli.run(
        "load",
        "dno",
        "--dno",
        "UKPN",
        "--dno",
        "SPEN",
        "--dno",
        "NGED",
        "--dataset",
        "powerflow",
        "--dataset",
        "headroom",
    )
    assert result.returncode == 1
    assert "SPEN refused headroom" in result.stdout and "SPEN_API_TOKEN" in result.stdout
    assert "data.enquiries@spenergynetworks.co.uk" in result.stdout
    assert "the ckan portal needs an API token: set NGED_API_TOKEN" in result.stdout
    statuses = dict(cli.query("select dataset, status from ops.load_log"))
    assert statuses["SPEN.headroom"] == "forbidden" and statuses["NGED.headroom"] == "needs_token"
    assert statuses["UKPN.powerflow"] == "ok" and statuses["UKPN.headroom"] == "not_found"
    assert cli.count("raw_dno.powerflow") == 8820  # the rest still loaded


def test_a_refused_portal_is_not_asked_again_until_a_week_passes_or_force(cli, replay):
    spen = "/dno/spen/api/explore/v2.1/catalog/datasets/spen_network_capacity_map/exports/json"
    replay.state.inject(spen, [Fault(status=401)])
    cli.run("load", "dno", "--dno", "SPEN", "--dataset", "headroom")
    before = len(replay.state.requests)
    again = cli.run("load", "dno", "--dno", "SPEN", "--dataset", "headroom")
    assert again.returncode == 0 and "asked again from" in again.stderr
    assert len(replay.state.requests) == before  # no request to the refusing portal
    forced = cli.run("load", "dno", "--dno", "SPEN", "--dataset", "headroom", "--force")
    assert (
        len(replay.state.requests) == before + 1 and forced.returncode == 1
    )  # 404 now: the id is not recorded


def test_a_missing_dataset_is_not_found_with_its_url(cli):
    result = cli.run("load", "dno", "--dno", "ENWL", "--dataset", "headroom")
    assert result.returncode == 1
    error = cli.query("select status, error from ops.load_log")[0]
    assert error[0] == "not_found" and "/datasets/heatmap-substation-areas/exports/json" in error[1]


def test_a_file_downloaded_by_hand_loads_through_the_same_tables(cli, tmp_path):
    result = cli.run(
        "load", "dno", "--file", str(UKPN_FILE), "--dno", "UKPN", "--dataset", "powerflow"
    )
    assert result.returncode == 0, result.stderr
    assert cli.query("select count(*), min(_source), max(dno) from raw_dno.powerflow") == [
        (8820, "file", "UKPN")
    ]


def test_an_xlsx_file_loads_too(cli, tmp_path):
    from openpyxl import Workbook

    with UKPN_FILE.open() as fh:
        rows = list(csv.reader(fh))[:51]
    book = Workbook()
    for row in rows:
        book.active.append(row)
    path = tmp_path / "powerflow_downloaded.xlsx"
    book.save(path)
    assert (
        cli.run(
            "load", "dno", "--file", str(path), "--dno", "UKPN", "--dataset", "powerflow"
        ).returncode
        == 0
    )
    assert cli.count("raw_dno.powerflow") == 50


@pytest.mark.parametrize(
    "args, message",
    [
        (["--file", "x.csv", "--dataset", "powerflow"], "--file needs exactly one --dno"),
        (["--dataset", "weather"], "unknown DNO dataset kind: weather"),
        (["--dno", "XYZ"], "unknown DNO: XYZ"),
        (["--file", "/no/such.csv", "--dno", "UKPN", "--dataset", "powerflow"], "no such file"),
    ],
)
def test_dno_bad_input(cli, args, message):
    result = cli.run("load", "dno", *args)
    assert result.returncode == 2 and message in result.stderr


# -- endpoints ----------------------------------------------------------------------------------


def test_check_endpoints_reports_verdicts_records_history_and_exit_code(cli, replay):
    replay.state.add("/bmrs/health", RecordSet(records=[], body=b'{"status": "Healthy"}'))
    replay.state.add(
        "/dno/ukpn/api/explore/v2.1/catalog/datasets/ukpn-live-faults",
        RecordSet(records=[], body=b'{"dataset_id": "ukpn-live-faults"}'),
    )
    replay.state.inject(
        "/dno/spen/api/explore/v2.1/catalog/datasets/spen_network_capacity_map", [Fault(status=403)]
    )
    result = cli.run("check-endpoints", "--json")
    report = json.loads(result.stdout)
    verdicts = {(e["source"], e["endpoint"]): e["verdict"] for e in report["endpoints"]}
    assert verdicts[("bmrs", "health")] == "ok"
    assert (
        verdicts[("neso", "historic_demand")] == "ok" and verdicts[("neso", "bsuos")] == "not found"
    )
    assert verdicts[("dno", "UKPN outages")] == "ok"
    assert verdicts[("dno", "SPEN headroom")] == "forbidden"
    assert verdicts[("dno", "NGED headroom")] == "needs token"
    assert verdicts[("warehouse", "duckdb")] == "ok"
    assert result.returncode == 0
    assert cli.query("select count(*) from ops.endpoint_status")[0][0] == len(report["endpoints"])
    # BMRS unreachable: a required endpoint is down -> exit 1
    down = cli.run("check-endpoints", GRIDWAREHOUSE_BMRS_BASE_URL="http://127.0.0.1:9/bmrs")
    assert down.returncode == 1 and "required endpoint(s) down: bmrs health" in down.stdout


# -- seeds --------------------------------------------------------------------------------------


def test_gsps_seed_is_built_from_the_recorded_gsp_list():
    from loaders.reference.gsp_seed import SEED, build

    assert SEED.read_text() == build()


def test_seeds_link_every_gsp_to_a_group_and_every_group_to_a_dno():
    root = RECORDED.parents[2] / "seeds"
    groups = {r["gsp_group_id"]: r for r in csv.DictReader((root / "gsp_groups.csv").open())}
    dnos = {r["dno_group"]: r for r in csv.DictReader((root / "dno_contacts.csv").open())}
    gsps = list(csv.DictReader((root / "gsps.csv").open()))
    assert len(groups) == 14 and len(dnos) == 6 and len(gsps) == 338
    assert all(g["gsp_group_id"] in groups for g in gsps)
    assert all(g["dno_group"] in dnos for g in groups.values())
    # the seed's distributor ids agree with the recorded GSP list's (pes_id, pes_name) pairs
    assert all(g["distributor_id"] == groups[g["gsp_group_id"]]["distributor_id"] for g in gsps)
    assert dnos["NGED"]["data_contact_email"] == ""  # no address found in the recorded data


def test_datasets_list_shows_each_source_its_own_catalogue(cli):
    """`datasets list neso|dno` lists that source's datasets from the registry (it used to
    fall through to the BMRS catalogue)."""
    from loaders.settings import load_settings
    from loaders.sources.dno.source import dataset_name, load_portals
    from loaders.sources.neso.source import load_datasets

    neso = cli.run("datasets", "list", "neso", "--json")
    assert neso.returncode == 0, neso.stderr
    rows = {r["name"]: r for r in json.loads(neso.stdout)}
    assert set(rows) == set(load_datasets())
    assert rows["historic_demand"]["table"] == "raw_neso.historic_demand"
    dno = cli.run("datasets", "list", "dno", "--json")
    settings = load_settings(env=cli.env, cwd=cli.data_dir.parent)
    expected = {
        dataset_name(name, kind)
        for name, portal in load_portals(settings).items()
        for kind in portal.datasets
    }
    assert {r["name"] for r in json.loads(dno.stdout)} == expected
    assert "UKPN.powerflow" in expected
    text = cli.run("datasets", "list", "neso").stdout
    assert "historic_demand" in text and "BOALF" not in text
