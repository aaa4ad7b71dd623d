"""Faults in response bodies, and secrets in error text (issue 17, items 1-5 and 14).

Every window lands complete and correct, or is recorded `failed` with its reason and fetched
again later: never `ok` with fewer rows, never a traceback, never a secret in an output or table.
Bodies are served by the project's replay server on 127.0.0.1 (its own instance here, so routes
other tests replace do not matter). Faulty bodies are cut or edited from recorded real responses;
every helper that edits a record says `synthetic` in its name.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from loaders.common.engine import Task, Window
from loaders.sources.bmrs.catalogue import load_catalogue
from loaders.testing.replay import Fault, ReplayServer

from .conftest import RECORDED, Cli, make_cli

SECRET = "secretKEY123"
FUELINST = RECORDED / "bmrs" / "FUELINST" / "fuelinst_stream_2024-02-12T1745Z.json"
FUELINST_WINDOW = ("2024-02-12T17:30:00Z", "2024-02-12T18:00:00Z")
BOALF = RECORDED / "bmrs" / "BOALF" / "boalf_stream_2024-05-01.json"


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


@pytest.fixture
def cli(tmp_path: Path, server: ReplayServer) -> Cli:
    made = make_cli(tmp_path, server)
    made.env["GRIDWAREHOUSE_HTTP_MAX_RETRIES"] = "0"  # one request per window: one fault each
    return made


def path_of(dataset: str) -> str:
    return "/bmrs" + load_catalogue().get(dataset).path


def records_of(path: Path) -> list[dict[str, Any]]:
    body = orjson.loads(path.read_bytes())
    return body["data"] if isinstance(body, dict) else body


def serve_once(server: ReplayServer, dataset: str, body: bytes, times: int = 1) -> None:
    server.state.inject(path_of(dataset), [Fault(status=200, body=body)] * times)


def load(cli: Cli, dataset: str, start: str, end: str, **env: str) -> Any:
    return cli.run("load", "bmrs", "--dataset", dataset, "--from", start, "--to", end, **env)


def load_log(cli: Cli, dataset: str) -> list[tuple[Any, ...]]:
    return cli.query(
        "select status, rows, error from ops.load_log where dataset = "
        f"'{dataset}' order by finished_at"
    )


def schema_changes(cli: Cli, dataset: str) -> set[tuple[str, str]]:
    rows = cli.query(f"select field, change from ops.schema_changes where dataset = '{dataset}'")
    return set(rows)


def assert_no_traceback(result: Any) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]


def cut_after_record(body: bytes, n: int) -> bytes:
    """The body cut just after its n-th record's `},` (the one cut DuckDB reads as whole)."""
    at = -1
    for _ in range(n):
        at = body.index(b"},", at + 1)
    return body[: at + 2]


# -- 1. a cut bare array ---------------------------------------------------------------------


def test_a_bare_array_cut_after_a_record_fails_the_window_and_is_fetched_again(cli, server):
    whole = BOALF.read_bytes()  # the recorded real body, a bare array of 1000 records
    serve_once(server, "BOALF", cut_after_record(whole, 12))
    result = load(cli, "BOALF", "2024-05-01", "2024-05-02")
    assert result.returncode in (1, 2)  # 2 while a bad response counts as a bad endpoint
    assert_no_traceback(result)
    [(status, rows, error)] = load_log(cli, "BOALF")
    assert (status, rows) == ("failed", 0)
    assert "the array is not closed: the body was cut off" in error
    assert cli.count("raw_bmrs.boalf") == 0

    again = load(cli, "BOALF", "2024-05-01", "2024-05-02")  # the window is not done: fetched again
    assert again.returncode == 0, again.stdout + again.stderr
    assert load_log(cli, "BOALF")[-1][:2] == ("ok", 1000)
    assert cli.count("raw_bmrs.boalf") == 1000


def test_a_cut_dno_portal_export_fails_the_load_and_the_next_load_takes_it_whole(cli, server):
    from .test_neso_dno import UKPN_EXPORT

    _, _, whole, _ = server.state.respond(UKPN_EXPORT, "")  # the recorded export, as served
    server.state.inject(UKPN_EXPORT, [Fault(status=200, body=cut_after_record(whole, 100))])
    result = cli.run("load", "dno", "--dno", "UKPN", "--dataset", "powerflow")
    assert result.returncode in (1, 2)
    assert_no_traceback(result)
    [(status, rows, error)] = load_log(cli, "UKPN.powerflow")
    assert (status, rows) == ("failed", 0) and "the body was cut off" in error
    assert cli.count("raw_dno.powerflow") == 0

    again = cli.run("load", "dno", "--dno", "UKPN", "--dataset", "powerflow")
    assert again.returncode == 0, again.stdout + again.stderr
    assert load_log(cli, "UKPN.powerflow")[-1][:2] == ("ok", 8820)
    assert cli.count("raw_dno.powerflow") == 8820


# -- 5. null bodies are not empty ------------------------------------------------------------


@pytest.mark.parametrize("body", [b"null", b'{"data": null}', b'{"data": null, "metadata": {}}'])
def test_a_null_body_is_failed_not_empty(cli, server, body):
    serve_once(server, "FUELINST", body)
    result = load(cli, "FUELINST", *FUELINST_WINDOW)
    assert result.returncode in (1, 2)
    assert_no_traceback(result)
    [(status, rows, error)] = load_log(cli, "FUELINST")
    assert (status, rows) == ("failed", 0)
    assert "without a list of records (got null)" in error
    # failed, so the next incremental load asks for the window again
    assert "FAILED" in result.stdout


@pytest.mark.parametrize("body", [b"[]", b'{"data": []}'])
def test_only_a_well_formed_empty_list_is_empty(cli, server, body):
    serve_once(server, "FUELINST", body)
    result = load(cli, "FUELINST", *FUELINST_WINDOW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert load_log(cli, "FUELINST") == [("empty", 0, None)]


# -- 2. records without their natural key -----------------------------------------------------


def synthetic_fuelinst(change: Any) -> bytes:
    """The recorded real FUELINST records with `change` applied to each (a synthetic edit)."""
    return orjson.dumps([change(dict(r)) for r in records_of(FUELINST)])


def test_records_with_a_null_key_field_fail_the_window_instead_of_collapsing(cli, server):
    serve_once(server, "FUELINST", synthetic_fuelinst(lambda r: {**r, "startTime": None}))
    result = load(cli, "FUELINST", *FUELINST_WINDOW)
    assert result.returncode == 1
    assert_no_traceback(result)
    [(status, rows, error)] = load_log(cli, "FUELINST")
    assert (status, rows) == ("failed", 0)
    assert "19 of 19 records have no value in the natural-key field 'startTime'" in error
    assert ("startTime", "missing_key") in schema_changes(cli, "FUELINST")
    assert cli.count("raw_bmrs.fuelinst") == 0


def test_a_renamed_key_field_fails_the_window_and_records_the_schema_change(cli, server):
    def renamed(record: dict[str, Any]) -> dict[str, Any]:
        record["fuelTypeName"] = record.pop("fuelType")
        return record

    serve_once(server, "FUELINST", synthetic_fuelinst(renamed))
    result = load(cli, "FUELINST", *FUELINST_WINDOW)
    assert result.returncode == 1
    assert_no_traceback(result)
    [(status, rows, error)] = load_log(cli, "FUELINST")
    assert (status, rows) == ("failed", 0)
    assert "19 of 19 records lack the natural-key field 'fuelType'" in error
    assert {
        ("fuelTypeName", "added"),
        ("fuelType", "missing"),
        ("fuelType", "missing_key"),
    } <= schema_changes(cli, "FUELINST")
    assert cli.count("raw_bmrs.fuelinst") == 0


def test_the_recorded_fuelinst_response_loads_every_record(cli):
    result = load(cli, "FUELINST", *FUELINST_WINDOW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert load_log(cli, "FUELINST") == [("ok", 19, None)]
    assert cli.count("raw_bmrs.fuelinst") == len(records_of(FUELINST)) == 19


def test_a_key_field_that_is_null_in_real_records_still_loads(cli):
    """NOU2T3YW's inferred key holds systemZone, null in every real record: not a loss."""
    result = load(cli, "NOU2T3YW", "2024-05-01", "2024-05-02")
    assert result.returncode == 0, result.stdout + result.stderr
    assert cli.count("raw_bmrs.nou2t3yw") == 155
    assert cli.query("select count(*) from raw_bmrs.nou2t3yw where system_zone is null") == [(155,)]


NOU2T3YW = RECORDED / "bmrs" / "NOU2T3YW" / "nou2t3yw_2024-05-01.json"


def convert_for(dataset: str, records: list[dict[str, Any]]) -> Any:
    from loaders.common.jsonrows import convert

    endpoint = load_catalogue().get(dataset)
    return convert(
        orjson.dumps(records), endpoint.fields, endpoint.keys,
        published_field=endpoint.published_field, source="api", loaded_at=datetime.now(UTC),
        required_keys=endpoint.required_keys,
    )  # fmt: skip


def test_records_sharing_a_key_with_a_null_part_are_refused_only_when_they_differ():
    from loaders.common.records import MissingKey

    first, second = records_of(NOU2T3YW)[:2]  # real records; systemZone is null in both
    key = {k: first[k] for k in ("publishTime", "year", "calendarWeekNumber")}
    synthetic_same_key = {**second, **key}  # another record given the first one's key
    assert synthetic_same_key != first
    with pytest.raises(MissingKey, match="cannot be told apart"):
        convert_for("NOU2T3YW", [first, synthetic_same_key])
    assert convert_for("NOU2T3YW", [first, dict(first)]).table.num_rows == 1  # a plain repeat


def test_a_record_whose_whole_inferred_key_is_null_is_refused():
    from loaders.common.records import MissingKey

    keys = load_catalogue().get("NOU2T3YW").keys
    synthetic_keyless = [{**r, **dict.fromkeys(keys)} for r in records_of(NOU2T3YW)[:3]]
    with pytest.raises(MissingKey, match="3 of 3 records have no value in any natural-key field"):
        convert_for("NOU2T3YW", synthetic_keyless)


def test_two_new_fields_with_one_column_name_are_refused():
    from loaders.common.records import FieldCollision

    synthetic = [{**r, "windSpeed": 1, "wind_speed": 2} for r in records_of(FUELINST)]
    with pytest.raises(FieldCollision, match="column 'wind_speed'"):
        convert_for("FUELINST", synthetic)


# -- 3. a new field whose column name is taken -----------------------------------------------


def test_a_key_field_renamed_onto_an_existing_column_is_refused_and_the_column_keeps_its_type(
    cli, server
):
    assert load(cli, "FUELINST", *FUELINST_WINDOW).returncode == 0
    column_type = (
        "select data_type from information_schema.columns where table_schema = 'raw_bmrs' "
        "and table_name = 'fuelinst' and column_name = 'start_time'"
    )
    assert cli.query(column_type) == [("TIMESTAMP WITH TIME ZONE",)]

    def collides(record: dict[str, Any]) -> dict[str, Any]:
        record["start_time"] = record.pop("startTime")
        return record

    serve_once(server, "FUELINST", synthetic_fuelinst(collides))
    result = load(cli, "FUELINST", "2024-02-12T18:00:00Z", "2024-02-12T18:30:00Z")
    assert result.returncode == 1
    assert_no_traceback(result)
    status, rows, error = load_log(cli, "FUELINST")[-1]
    assert (status, rows) == ("failed", 0)
    assert "new field 'start_time' would land in column 'start_time'" in error
    assert ("start_time", "name_collision") in schema_changes(cli, "FUELINST")
    assert cli.query(column_type) == [("TIMESTAMP WITH TIME ZONE",)]
    assert cli.count("raw_bmrs.fuelinst") == 19


# -- 4. IRIS bodies that are not records -----------------------------------------------------


def amqp_message(body: bytes, subject: str) -> Any:
    """An AMQP data message as the receiver gets it from the Service Bus SDK."""
    from types import SimpleNamespace

    from azure.servicebus.amqp import AmqpMessageBodyType

    return SimpleNamespace(
        body_type=AmqpMessageBodyType.DATA, body=[body], subject=subject, message_id="m1",
        application_properties={}, sequence_number=1, enqueued_time_utc=datetime.now(UTC),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"error": "Unauthorized", "status": 401}', "without the natural key of its dataset"),
        (b'{"data": null}', '"data" is null, not a list'),
        (b"null", "the body is null, not records"),
        (b"42", "the body is a JSON int, not records"),
    ],
)
def test_an_iris_body_that_is_not_records_is_refused_with_its_reason(body, detail):
    from loaders.sources.iris.receiver import MalformedMessage, parse_message

    with pytest.raises(MalformedMessage) as refused:
        parse_message(amqp_message(body, "BOALF"), "q", datetime.now(UTC), load_catalogue())
    assert refused.value.reason == "not-records" and detail in refused.value.detail


def test_an_iris_body_of_one_record_of_its_dataset_is_taken() -> None:
    from loaders.sources.iris.receiver import parse_message

    (record,) = records_of(BOALF)[:1]
    landed = parse_message(
        amqp_message(orjson.dumps(record), "BOALF"), "q", datetime.now(UTC), load_catalogue()
    )
    assert landed.dataset == "BOALF" and landed.records == [record]


@pytest.fixture
def amqp_broker() -> Iterator[Any]:
    """The project's local AMQP 1.0 broker (tests/iris), as test_iris.py runs it."""
    from tests.iris.servicebus_broker import Broker

    from .test_iris import QUEUE

    server = Broker(port=0, queue=QUEUE, lock_duration=30)
    server.start()
    yield server
    server.stop()


def test_iris_junk_is_dead_lettered_and_keyless_records_held_back(cli, amqp_broker):
    broker = amqp_broker
    from .iris_messages import distinct_keys, messages_from_api
    from .test_iris import dead_letters, drain, enqueue

    good = messages_from_api("BOALF", per_message=5, limit=50)
    keyless_synthetic = [
        {k: v for k, v in r.items() if k != "acceptanceNumber"} for r in records_of(BOALF)[60:65]
    ]
    enqueue(broker, good[:5])
    broker.enqueue(b'{"error": "Unauthorized", "status": 401}', "BOALF", "error_object_synthetic")
    broker.enqueue(b'{"data": null}', "BOALF", "data_null_synthetic")
    broker.enqueue(orjson.dumps(keyless_synthetic), "BOALF", "BOALF_keyless_synthetic")
    enqueue(broker, good[5:])

    result = drain(cli, broker)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    letters = {str(m.message_id): m.dead_letter_reason for m in dead_letters(broker)}
    assert letters == {
        "error_object_synthetic": "not-records",
        "data_null_synthetic": "not-records",
    }
    assert cli.count("raw_bmrs.boalf") == distinct_keys("BOALF", limit=50)
    columns = {c for (c,) in cli.query("select column_name from information_schema.columns "
                                       "where table_name = 'boalf'")}  # fmt: skip
    assert not {"error", "status", "data"} & columns, "the junk added no columns"
    held = cli.query("select message_id, reason from raw_bmrs.iris_unmapped_messages")
    assert [m for m, _ in held] == ["BOALF_keyless_synthetic"]
    assert "missing key" in held[0][1] and "acceptanceNumber" in held[0][1]


# -- 14. the API key never leaves the process ------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        _Hook.received.append(self.rfile.read(length).decode())
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[str]]]:
    _Hook.received = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}/hook", _Hook.received
    finally:
        http.shutdown()
        http.server_close()


def varchar_values(cli: Cli) -> str:
    """Every VARCHAR value of every ops.* and raw_* table, as one text."""
    columns = cli.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where (table_schema = 'ops' or table_schema like 'raw_%') and data_type = 'VARCHAR'"
    )
    assert columns, "the warehouse has text columns to scan"
    parts = []
    for schema, table, column in columns:
        parts += [str(v) for (v,) in cli.query(f'select "{column}" from {schema}."{table}"')]
    return "\n".join(parts)


def test_an_upstream_401_echoing_the_key_leaks_it_nowhere(cli, server, webhook, tmp_path):
    from loaders.logs import setup_logging
    from loaders.operations.alerts import check_and_send
    from loaders.settings import load_settings

    query = "from=2024-05-01T00:00:00Z&to=2024-05-02T00:00:00Z"
    echoed = {  # an upstream error page that quotes the request, as some gateways do
        "statusCode": 401,
        "message": f"Access denied due to invalid subscription key {SECRET}",
        "request": f"{server.base_url('bmrs')}/datasets/BOALF/stream?{query}&APIKey={SECRET}",
    }
    server.state.inject(path_of("BOALF"), [Fault(status=401, body=json.dumps(echoed).encode())])
    env = {"BMRS_API_KEYS": SECRET, "GRIDWAREHOUSE_STALE_AFTER": "bmrs=10000d"}
    only_boalf = {"GRIDWAREHOUSE_RUN_SOURCES": "bmrs", "GRIDWAREHOUSE_RUN_BMRS_DATASETS": "BOALF"}
    loaded = load(cli, "BOALF", "2024-05-01", "2024-05-02", **env)
    assert loaded.returncode == 1
    assert_no_traceback(loaded)
    [(status, _, error)] = load_log(cli, "BOALF")
    assert status == "failed" and "HTTP 401" in error and "invalid subscription key" in error

    html = tmp_path / "status.html"
    outputs = [
        loaded.stdout + loaded.stderr,
        cli.run("status", **env, **only_boalf).stdout,
        cli.run("status", "--json", **env, **only_boalf).stdout,
        cli.run("status", "--html", str(html), **env, **only_boalf).stderr,
        html.read_text(),
    ]
    assert "invalid subscription key" in outputs[2]  # the failure is shown, masked

    hook, posted = webhook
    settings = load_settings(
        env={**cli.env, **env, **only_boalf, "GRIDWAREHOUSE_ALERT_WEBHOOK": hook},
        cwd=cli.data_dir.parent,
    )
    setup_logging(settings, "WARNING")  # as the CLI does: the process's redactor knows the key
    sent = check_and_send(settings)
    assert sent and posted and "latest load failed" in posted[0]
    outputs += [*posted, (cli.data_dir / "alerts.state.json").read_text()]
    outputs += [p.read_text() for p in (cli.data_dir / "logs").glob("*.jsonl")]
    outputs.append(varchar_values(cli))
    for text in outputs:
        assert SECRET not in text
    assert any("***" in text for text in outputs)


def test_a_portal_probe_echoing_its_token_stores_and_prints_it_masked(cli, server):
    token = "tokSECRET987"
    probe = (
        "/dno/ukpn/api/explore/v2.1/catalog/datasets/ukpn-33kv-circuit-operational-data-half-hourly"
    )
    echo = f'{{"error": "invalid apikey {token}", "header": "Apikey {token}"}}'.encode()
    server.state.inject(probe, [Fault(status=401, body=echo)] * 2)
    text = cli.run("check-endpoints", UKPN_API_TOKEN=token)
    as_json = cli.run("check-endpoints", "--json", UKPN_API_TOKEN=token)
    assert_no_traceback(text)
    assert_no_traceback(as_json)
    [detail] = [e["detail"] for e in json.loads(as_json.stdout)["endpoints"] if e["url"].endswith(
        "half-hourly")]  # fmt: skip
    assert "invalid apikey ***" in detail
    stored = varchar_values(cli)
    assert "invalid apikey ***" in stored
    for output in (text.stdout, text.stderr, as_json.stdout, as_json.stderr, stored):
        assert token not in output


# -- the property: any cut of a real response is all or nothing -----------------------------

PROPERTY_CASES = {  # dataset: (recorded real body, its recorded window)
    "BOALF": (BOALF, ("2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z")),
    "MILS": (
        RECORDED / "bmrs" / "MILS" / "mils_2024-05-01T10-11Z.json",
        ("2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"),
    ),
    "REMIT_LIST_BY_EVENT": (
        RECORDED / "bmrs" / "REMIT" / "remit_list_by-event_2024-05-01.json",
        ("2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"),
    ),
    "FUELINST": (FUELINST, FUELINST_WINDOW),
}
CUTS_PER_DATASET = 15


def cut_points(body: bytes, seed: int) -> list[int]:
    """Seeded cut offsets: two thirds anywhere, a third just after a record's `},` (the cut a
    lenient reader mistakes for a whole array), then the whole body."""
    import random

    rng = random.Random(seed)
    boundaries = [i + 2 for i in range(len(body)) if body[i : i + 2] == b"},"]
    anywhere = rng.sample(range(1, len(body)), CUTS_PER_DATASET - CUTS_PER_DATASET // 3)
    return [*sorted(anywhere + rng.sample(boundaries, CUTS_PER_DATASET // 3)), len(body)]


@pytest.mark.slow
@pytest.mark.parametrize("dataset", list(PROPERTY_CASES))
def test_any_cut_of_a_real_response_stores_every_record_or_fails_the_window(cli, server, dataset):
    from loaders.commands import run_bmrs
    from loaders.settings import load_settings

    path, (start, end) = PROPERTY_CASES[dataset]
    body = path.read_bytes()
    expected = len(records_of(path))
    settings = load_settings(env=cli.env, cwd=cli.data_dir.parent)
    window = Window(
        datetime.fromisoformat(start.replace("Z", "+00:00")),
        datetime.fromisoformat(end.replace("Z", "+00:00")),
    )
    table = f"raw_bmrs.{load_catalogue().get(dataset).table}"
    outcomes = []
    for cut in cut_points(body, seed=sum(dataset.encode())):
        serve_once(server, dataset, body[:cut])
        run_bmrs(settings, [Task(dataset, window)])
        status, rows, _ = load_log(cli, dataset)[-1]
        stored = cli.count(table)
        outcomes.append((cut, status, rows, stored))
        if status in ("ok", "empty"):
            assert (rows, stored) == (expected, expected), outcomes
        else:
            assert (status, rows, stored) == ("failed", 0, 0), outcomes
    # every strict prefix failed; the whole body stored every record
    assert [o[1] for o in outcomes] == ["failed"] * CUTS_PER_DATASET + ["ok"], outcomes
