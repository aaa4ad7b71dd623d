"""Carbon intensity of the generation mix on the recorded real FUELHH export (2025-02-06,
periods 2-11) and FUELINST stream (2024-02-12T17:45Z), loaded through the real loader from the
replay server and recomputed here in plain Python with the factors of the committed seed."""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest

from .conftest import RECORDED, ROOT, Cli, build_models, load_bmrs, make_cli, recorded_records

pytestmark = pytest.mark.slow
FUELHH = RECORDED / "bmrs" / "FUELHH" / "fuelhh_csv_2025-02-06_sp2-11.csv"
FUELINST = "bmrs/FUELINST/fuelinst_stream_2024-02-12T1745Z.json"
FACTORS = ROOT / "seeds" / "carbon_intensity_factors.csv"


def factors() -> dict[str, float]:
    with FACTORS.open(newline="") as fh:
        return {r["fuel_type"]: float(r["factor_gco2_per_kwh"]) for r in csv.DictReader(fh)}


def intensity(mix: dict[str, float]) -> tuple[float, float, float]:
    """(gCO2/kWh of generation, gCO2/kWh with imports, MWh of imports without a factor) of one
    interval's fuel -> MWh: negative flows are exports, not supply."""
    f = factors()
    gen_e = gen_g = imp_e = imp_g = unfactored = 0.0
    for fuel, mwh in mix.items():
        supply = max(mwh, 0.0)
        if fuel.startswith("INT"):
            if fuel in f:
                imp_e += supply * f[fuel]
                imp_g += supply
            else:
                unfactored += supply
        else:
            gen_e += supply * f[fuel]
            gen_g += supply
    return gen_e / gen_g, (gen_e + imp_e) / (gen_g + imp_g), unfactored


def fuelhh_by_period() -> dict[int, dict[str, float]]:
    """The recorded FUELHH rows as period -> fuel -> MWh (MW over half an hour)."""
    periods: dict[int, dict[str, float]] = defaultdict(dict)
    with FUELHH.open(newline="") as fh:
        for row in csv.DictReader(fh):
            periods[int(row["SettlementPeriod"])][row["FuelType"]] = int(row["Generation"]) * 0.5
    return periods


@pytest.fixture(scope="module")
def carbon(tmp_path_factory, replay) -> Cli:
    cli = make_cli(tmp_path_factory.mktemp("carbon"), replay)
    load_bmrs(cli, "FUELHH", start="2025-02-06", end="2025-02-07")
    load_bmrs(cli, "FUELINST", start="2024-02-12", end="2024-02-13")
    build_models(
        cli,
        "+fct_carbon_intensity_daily",
        "+fct_carbon_intensity_hourly",
        "+fct_carbon_intensity_5min",
    )
    return cli


def test_seed_has_a_factor_for_every_recorded_generation_fuel():
    fuels = {fuel for mix in fuelhh_by_period().values() for fuel in mix}
    missing = {fuel for fuel in fuels if fuel not in factors()}
    # only the Norwegian and Danish links lack a published factor
    assert missing == {"INTNSL", "INTVKL"}
    with FACTORS.open(newline="") as fh:
        assert all(r["source"].strip() for r in csv.DictReader(fh))


def test_intensity_per_period_matches_a_hand_computation(carbon):
    expected = {period: intensity(mix) for period, mix in fuelhh_by_period().items()}
    rows = carbon.query(
        "select settlement_period, carbon_intensity_gco2_per_kwh, "
        "import_adjusted_carbon_intensity_gco2_per_kwh, unfactored_import_mwh "
        "from marts.fct_carbon_intensity_by_period where settlement_date = '2025-02-06'"
    )
    actual = {period: (gen, adjusted, unfactored) for period, gen, adjusted, unfactored in rows}
    assert set(actual) == set(expected) == set(range(2, 12))
    for period, values in expected.items():
        assert actual[period] == pytest.approx(values, abs=1e-9), period


def test_period_11_by_hand(carbon):
    # period 11 of 2025-02-06 worked through with the published factors (MW; half an hour each)
    mix = fuelhh_by_period()[11]
    f = factors()
    generation = {k: v for k, v in mix.items() if not k.startswith("INT")}
    by_hand = sum(max(v, 0) * f[k] for k, v in generation.items()) / sum(
        max(v, 0) for v in generation.values()
    )
    row = carbon.query(
        "select carbon_intensity_gco2_per_kwh, generation_emissions_tco2, generation_mwh "
        "from marts.fct_carbon_intensity_by_period "
        "where settlement_date = '2025-02-06' and settlement_period = 11"
    )[0]
    assert row[0] == pytest.approx(by_hand)
    # tonnes = MWh x gCO2/kWh / 1000, and intensity = tonnes x 1000 / MWh
    assert row[1] * 1000 / row[2] == pytest.approx(by_hand)
    assert mix["CCGT"] == 16799 * 0.5 and 100 < by_hand < 400


def test_daily_and_hourly_intensity_come_from_summed_energy_and_co2(carbon):
    periods = fuelhh_by_period()
    f = factors()
    emissions = sum(
        max(v, 0) * f[k]
        for mix in periods.values()
        for k, v in mix.items()
        if not k.startswith("INT")
    )
    energy = sum(
        max(v, 0) for mix in periods.values() for k, v in mix.items() if not k.startswith("INT")
    )
    daily = carbon.query(
        "select periods, carbon_intensity_gco2_per_kwh from marts.fct_carbon_intensity_daily "
        "where settlement_date = '2025-02-06'"
    )
    assert daily == [(10, pytest.approx(emissions / energy))]
    hourly = carbon.query(
        "select sum(periods), sum(generation_emissions_tco2) from marts.fct_carbon_intensity_hourly "
        "where settlement_date = '2025-02-06'"
    )
    assert hourly == [(10, pytest.approx(emissions / 1000))]


def test_five_minute_intensity_matches_the_recorded_fuelinst(carbon):
    records = recorded_records(FUELINST)
    mix = {r["fuelType"]: r["generation"] * 5 / 60 for r in records}
    expected = intensity(mix)
    rows = carbon.query(
        "select interval_start_utc, carbon_intensity_gco2_per_kwh, "
        "import_adjusted_carbon_intensity_gco2_per_kwh, unfactored_import_mwh "
        "from marts.fct_carbon_intensity_5min"
    )
    assert len(rows) == 1
    assert rows[0][0].isoformat().startswith("2024-02-12T17:45")
    assert rows[0][1:] == pytest.approx(expected, abs=1e-9)
