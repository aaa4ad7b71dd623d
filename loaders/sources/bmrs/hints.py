"""Hand-written knowledge the OpenAPI spec lacks: the one place for it.

The spec gives paths, parameters, field names and types. It does not say which fields identify a
record (natural keys), which window size suits a dataset's volume, or what a few endpoints should
be called. Everything here is keyed by dataset name and overrides what the spec implies.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

# Window size asked for when a hint does not say otherwise (capped by the API's own limit).
DEFAULT_WINDOW = timedelta(days=1)

# Snapshot endpoints (no window: the current list) are fetched again at most this often.
SNAPSHOT_REFRESH = timedelta(minutes=15)

# When one response holds two records with the same natural key, the later-published wins;
# these fields say when a record was published, in order of preference.
PUBLISHED_FIELDS = (
    "publishTime",
    "createdDateTime",
    "createdTime",
    "notificationTime",
    "acceptanceTime",
)

# How far ahead a /forecast/ endpoint's window may reach (its window filters the forecast's
# target time, not when it was published): the first phrase found in the dataset's name or
# summary (from Elexon's spec, e.g. "Fourteen day demand forecast", "Day-ahead ...") decides.
# A window over publish times never reaches beyond now: nothing is published in the future.
FORECAST_HORIZONS: tuple[tuple[str, timedelta], ...] = (
    ("three year", timedelta(days=3 * 366)),
    ("one year", timedelta(days=366)),
    ("year ahead", timedelta(days=366)),
    ("month ahead", timedelta(days=62)),
    ("week ahead", timedelta(days=14)),
    ("fourteen day", timedelta(days=15)),
    ("14d", timedelta(days=15)),
    ("day ahead", timedelta(days=2)),
)
# A /forecast/ endpoint whose spec names no horizon (wind, loss of load): two weeks, the
# longest daily horizon BMRS publishes (the 2-14 days ahead forecasts).
DEFAULT_FORECAST_HORIZON = timedelta(days=15)

# Short names for endpoints outside /datasets/ (the default name is the path, upper-cased).
NAMES: dict[str, str] = {
    "/reference/bmunits/all": "BMUNITS",
    "/balancing/settlement/system-prices/{settlementDate}": "SYSTEM_PRICES",
    "/balancing/settlement/system-prices/{settlementDate}/{settlementPeriod}": "SYSTEM_PRICES",
    "/remit/list/by-event/stream": "REMIT_LIST_BY_EVENT",
    "/remit/list/by-event": "REMIT_LIST_BY_EVENT",
    "/remit/list/by-publish/stream": "REMIT_LIST_BY_PUBLISH",
    "/remit/list/by-publish": "REMIT_LIST_BY_PUBLISH",
    "/balancing/acceptances/all/latest": "ACCEPTANCES_LATEST",
}

# Path parameters with a fixed set of values: each value makes its own dataset.
EXPANSIONS: dict[str, tuple[str, ...]] = {"bidOffer": ("bid", "offer")}

# Endpoints that return records but are views of data loaded elsewhere, or service probes.
EXCLUDED_PATHS: frozenset[str] = frozenset({"/health"})

# What a complete settlement day of a dataset holds, for fct_dataset_completeness_daily: rows for
# every settlement period unless named here or event-like. Unit- and action-level data (a row
# only when a unit submits, or is instructed, or an action is taken) has no expected count:
# such a day is only "loaded or not".
PER_PERIOD, PER_5_MINUTES, PER_DAY, EVENTS = "per_period", "per_5_minutes", "per_day", "events"
CARDINALITY: dict[str, str] = {
    "FUELINST": PER_5_MINUTES,  # five-minute averages: 6 start times per settlement period
    "DEMAND_PEAK": PER_DAY,  # the day's peak period only
    "FORECAST_DEMAND_DAY_AHEAD_PEAK": PER_DAY,
    "FORECAST_GENERATION_WIND_PEAK": PER_DAY,
}
# A natural key with one of these fields identifies a unit's submission or an action: events.
_EVENT_KEY_FIELDS = frozenset({"nationalGridBmUnit", "bmUnit", "acceptanceNumber", "id"})


def cardinality(dataset: str, keys: tuple[str, ...]) -> str:
    """How many rows a complete settlement day of a dataset has (see CARDINALITY)."""
    if dataset in CARDINALITY:
        return CARDINALITY[dataset]
    return EVENTS if _EVENT_KEY_FIELDS.intersection(keys) else PER_PERIOD


_BMU_TIME = ["nationalGridBmUnit", "timeFrom"]

# Per dataset: keys (API field names, in order), window (timedelta), max_window, types
# (field -> logical type, overriding the spec), extra_fields (fields the spec omits), cursor.
DATASETS: dict[str, dict[str, Any]] = {
    "BOALF": {"keys": ["nationalGridBmUnit", "acceptanceNumber", "timeFrom"]},
    "BOD": {
        "keys": ["nationalGridBmUnit", "settlementDate", "settlementPeriod", "pairId", "timeFrom"],
        # ~250-300k rows a day: hour windows keep each response (and memory) small.
        "window": timedelta(hours=1),
    },
    "MILS": {"keys": ["nationalGridBmUnit", "notificationSequence", "timeFrom"]},
    "MELS": {"keys": ["nationalGridBmUnit", "notificationSequence", "timeFrom"]},
    "PN": {"keys": ["nationalGridBmUnit", "settlementDate", "settlementPeriod", "timeFrom"]},
    "QPN": {"keys": ["nationalGridBmUnit", "settlementDate", "settlementPeriod", "timeFrom"]},
    "FUELINST": {"keys": ["startTime", "fuelType"]},
    "FUELHH": {"keys": ["settlementDate", "settlementPeriod", "fuelType"]},
    "FREQ": {"keys": ["measurementTime"], "window": timedelta(hours=24)},
    "SYSTEM_PRICES": {"keys": ["settlementDate", "settlementPeriod"]},
    "NETBSAD": {"keys": ["settlementDate", "settlementPeriod"]},
    "DISBSAD": {"keys": ["settlementDate", "settlementPeriod", "id"]},
    "REMIT": {"keys": ["mrid", "revisionNumber"]},
    "REMIT_LIST_BY_EVENT": {"keys": ["id"], "cursor": "publishTime"},
    "REMIT_LIST_BY_PUBLISH": {"keys": ["id"]},
    "INDGEN": {"keys": ["publishTime", "settlementDate", "settlementPeriod", "boundary"]},
    "INDDEM": {"keys": ["publishTime", "settlementDate", "settlementPeriod", "boundary"]},
    "MELNGC": {"keys": ["publishTime", "settlementDate", "settlementPeriod", "boundary"]},
    "IMBALNGC": {"keys": ["publishTime", "settlementDate", "settlementPeriod", "boundary"]},
    "BMUNITS": {
        "refresh": timedelta(days=1),
        # The live registry returns 22 fields; the spec documents 7. Capacities and the loss
        # factor arrive as fixed-decimal strings ("15.400"): kept as text, cast in staging.
        "keys": ["nationalGridBmUnit", "elexonBmUnit", "eic"],
        "extra_fields": {
            "bmUnitName": "string",
            "leadPartyId": "string",
            "demandCapacity": "string",
            "generationCapacity": "string",
            "productionOrConsumptionFlag": "string",
            "transmissionLossFactor": "string",
            "workingDayCreditAssessmentImportCapability": "string",
            "nonWorkingDayCreditAssessmentImportCapability": "string",
            "workingDayCreditAssessmentExportCapability": "string",
            "nonWorkingDayCreditAssessmentExportCapability": "string",
            "creditQualifyingStatus": "boolean",
            "demandInProductionFlag": "boolean",
            "gspGroupId": "string",
            "gspGroupName": "string",
            "interconnectorId": "string",
        },
    },
}

# Key fields of a hand-written key that real records leave null (the BM unit registry has units
# without an Elexon id, and most without an EIC: see tests/data/recorded/reference). Every other
# field of a hand-written key is required: a record without it fails its window.
NULLABLE_KEYS: dict[str, tuple[str, ...]] = {"BMUNITS": ("elexonBmUnit", "eic")}

# Field names that identify a record rather than measure it, in the order keys are built.
# Used to infer a natural key for datasets without a hint above.
_KEY_FIELDS = (
    "mrid",
    "revisionNumber",
    "documentId",
    "documentRevisionNumber",
    "nationalGridBmUnit",
    "acceptanceNumber",
    "notificationSequence",
    "pairId",
    "id",
    "publishTime",
    "settlementDate",
    "settlementPeriod",
    "settlementPeriodFrom",
    "startTime",
    "timeFrom",
    "measurementTime",
    "time",
    "halfHourEndTime",
    "forecastDate",
    "forecastDateTime",
    "weekStartDate",
    "year",
    "week",
    "calendarWeekNumber",
    "forecastYear",
    "forecastWeek",
    "month",
    "fuelType",
    "boundary",
    "systemZone",
    "biddingZone",
    "interconnectorName",
    "interconnectorId",
    "psrType",
    "businessType",
    "processType",
    "flowDirection",
    "tradingUnitName",
    "assetId",
    "partyId",
    "dataProvider",
    "warningType",
    "bmUnit",
)


def infer_keys(field_names: list[str], dataset: str) -> tuple[str, ...]:
    """A natural key from identifying field names; every field when none is recognised."""
    present = set(field_names)
    keys = [name for name in _KEY_FIELDS if name in present]
    if "nationalGridBmUnit" in keys and "bmUnit" in keys:
        keys.remove("bmUnit")  # the Elexon id is often null; the NG id identifies the unit
    return tuple(keys) if keys else tuple(n for n in field_names if n != "dataset")
