"""`gridwarehouse run` (one scheduled cycle) and `gridwarehouse schedule --every 15m` (a loop).

A cycle loads every enabled source that is due on its cadence (GRIDWAREHOUSE_RUN_EVERY:
BMRS and the IRIS gap check every 15 minutes, NESO hourly, DNO weekly, ISO-NE hourly), then
runs `dbt build` on just the models downstream of the raw tables that got new rows, then sends
alerts for incidents that opened or cleared. A lock file makes overlapping cron runs harmless:
the second one says who holds it and exits 0 at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loaders.common.locks import sole_holder
from loaders.errors import ConfigError, GridwarehouseError
from loaders.settings import Settings, parse_duration

log = logging.getLogger(__name__)


# -- what is scheduled -----------------------------------------------------------------------


def iris_configured(settings: Settings) -> bool:
    return bool(settings.secret("IRIS_CONNECTION_STRING") or settings.iris_client_id)


def isone_available() -> bool:
    try:
        import loaders.sources.isone  # noqa: F401
    except ImportError:
        return False
    return True


def enabled_sources(settings: Settings) -> list[str]:
    """The run's sources: IRIS only with a subscription, ISO-NE only where it is installed."""
    out = []
    for source in settings.run_sources:
        if source == "iris" and not iris_configured(settings):
            continue
        if source == "isone" and not isone_available():
            continue
        out.append(source)
    return out


def scheduled_datasets(settings: Settings) -> dict[str, set[str]]:
    """Per source, the datasets `run` loads: what `status` holds to its freshness thresholds."""
    chosen = settings.run_datasets
    out: dict[str, set[str]] = {}
    for source in enabled_sources(settings):
        if source == "bmrs":
            from loaders.sources.bmrs.catalogue import load_catalogue

            catalogue = load_catalogue()
            names = chosen.get("bmrs") or ("all",)
            _refuse_unknown(
                "bmrs",
                [n for n in names if n not in catalogue],
                "`gridwarehouse datasets list` shows them",
            )
            out["bmrs"] = (
                set(catalogue.names())
                if names == ("all",)
                else {catalogue.get(n).name for n in names}
            )
        elif source == "neso":
            from loaders.sources.neso.source import load_datasets

            names = chosen.get("neso") or ("all",)
            known = set(load_datasets())
            _refuse_unknown(
                "neso", [n for n in names if n not in known], f"known: {', '.join(sorted(known))}"
            )
            out["neso"] = known if names == ("all",) else set(names)
        elif source == "dno":
            out["dno"] = _dno_datasets(settings, chosen.get("dno"))
        elif source == "isone":
            out["isone"] = _isone_datasets(chosen.get("isone"))
    return out


def _refuse_unknown(source: str, unknown: list[str], valid: str) -> None:
    """A GRIDWAREHOUSE_RUN_<SOURCE>_DATASETS that names what does not exist is a malformed
    setting (exit 2), not a dataset quietly never loaded nor held to its threshold."""
    unknown = [n for n in unknown if n != "all"]
    if unknown:
        raise ConfigError(
            f"GRIDWAREHOUSE_RUN_{source.upper()}_DATASETS names unknown "
            f"{'kinds' if source == 'dno' else 'datasets'}: {', '.join(unknown)}; {valid}"
        )


def _dno_datasets(settings: Settings, kinds: tuple[str, ...] | None) -> set[str]:
    from loaders.sources.dno.source import KINDS, dataset_name, load_portals

    _refuse_unknown("dno", [k for k in kinds or () if k not in KINDS], f"kinds: {', '.join(KINDS)}")
    wanted = set(kinds or ()) - {"all"}
    names = set()
    for dno, portal in load_portals(settings).items():
        for kind in getattr(portal, "datasets", {}) or {}:
            if not wanted or kind in wanted:
                names.add(dataset_name(dno, kind))
    return names


def _isone_datasets(names: tuple[str, ...] | None) -> set[str]:
    # the names the load log records: the dataset names of loaders/sources/isone/datasets.toml
    from loaders.sources.isone.config import load_config

    every = set(load_config().datasets)
    return every if not names or names == ("all",) else {n.lower() for n in names} & every


# -- the cycle --------------------------------------------------------------------------------


@dataclass
class SourceOutcome:
    source: str
    exit_code: int
    rows: int = 0
    tables: set[str] = field(default_factory=set)  # dbt selectors: source:<name>.<table>
    note: str = ""


@dataclass
class CycleResult:
    started_at: datetime
    outcomes: list[SourceOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    dbt_exit: int | None = None
    full_build: bool = False
    selectors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        failed = any(o.exit_code not in (0,) for o in self.outcomes)
        return 1 if failed or (self.dbt_exit not in (None, 0)) else 0


class RunLocked(Exception):
    pass


@contextlib.contextmanager
def cycle_lock(settings: Settings) -> Iterator[None]:
    """Held for a whole cycle; a second `run` gets RunLocked at once instead of waiting."""
    with sole_holder(settings.data_dir / "run.lock", RunLocked):
        yield


def _state_path(settings: Settings) -> Path:
    return settings.pipelines_dir / "run.state.json"


def read_state(settings: Settings) -> dict[str, str]:
    try:
        return json.loads(_state_path(settings).read_text())
    except (OSError, ValueError):
        return {}


def _write_state(settings: Settings, state: dict[str, str]) -> None:
    path = _state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(state, indent=2, sort_keys=True))
    partial.replace(path)


def due_sources(
    settings: Settings, state: dict[str, str], now: datetime, force: bool = False
) -> tuple[list[str], list[str]]:
    """(due, not yet due) among the enabled sources, by each source's cadence."""
    due, waiting = [], []
    for source in enabled_sources(settings):
        last = state.get(source)
        every = settings.run_every.get(source, timedelta(minutes=15))
        # a little slack, so a 15-minute cron whose runs start a few seconds early still runs
        if force or last is None or now - datetime.fromisoformat(last) >= every * 0.95:
            due.append(source)
        else:
            waiting.append(source)
    return due, waiting


def run_cycle(settings: Settings, *, force: bool = False, build: bool = True) -> int:
    """`gridwarehouse run`: one cycle; exit 0, or 1 when a load or the build failed."""
    scheduled_datasets(settings)  # a RUN_<SOURCE>_DATASETS naming nothing real: exit 2 now
    try:
        with cycle_lock(settings):
            result = _cycle(settings, force=force, build=build)
    except RunLocked as held:
        print(
            f"another `gridwarehouse run` is in progress ({held}); this one exits", file=sys.stderr
        )
        return 0
    _print_cycle(result)
    return result.exit_code


def _cycle(settings: Settings, *, force: bool, build: bool) -> CycleResult:
    now = datetime.now(UTC)
    state = read_state(settings)
    due, waiting = due_sources(settings, state, now, force)
    result = CycleResult(started_at=now, skipped=waiting)
    for source in due:
        began = datetime.now(UTC)
        try:
            outcome = _load_source(settings, source)
        except GridwarehouseError as exc:
            log.error("%s: %s", source, exc)
            outcome = SourceOutcome(source, exc.exit_code or 1, note=str(exc))
        result.outcomes.append(outcome)
        state[source] = began.isoformat()
        _write_state(settings, state)
    result.selectors = sorted({t for o in result.outcomes for t in o.tables})
    if build and result.selectors:
        result.dbt_exit, result.full_build = _build(settings, result.selectors)
    _alert(settings)
    return result


def project_fingerprint() -> str:
    """Names and sizes of the dbt project's files: a new or changed model changes it."""
    import hashlib

    from loaders.common.dbt import PROJECT_ROOT

    digest = hashlib.sha256()
    for folder in ("models", "macros", "seeds", "snapshots"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(PROJECT_ROOT)}:{path.stat().st_size}".encode())
    digest.update((PROJECT_ROOT / "dbt_project.yml").read_bytes())
    return digest.hexdigest()[:16]


def _built_marker(settings: Settings) -> Path:
    return settings.pipelines_dir / "dbt.built"


def mark_built(settings: Settings) -> None:
    marker = _built_marker(settings)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(project_fingerprint())


def _build(settings: Settings, selectors: list[str]) -> tuple[int, bool]:
    """dbt build of what is downstream of the changed raw tables; the whole project instead
    when this warehouse has not had a full build of this version of the project (a selective
    build needs every other parent of those models to exist already)."""
    from loaders.common.dbt import run_dbt

    fingerprint = project_fingerprint()
    marker = _built_marker(settings)
    full = not marker.exists() or marker.read_text().strip() != fingerprint
    if full:
        log.info("dbt build of the whole project (first build of this project version)")
        code = run_dbt(settings, ["build"])
        if code == 0:
            mark_built(settings)
        return code, True
    log.info("dbt build of the models downstream of %d raw tables", len(selectors))
    return run_dbt(settings, ["build", "--select", *[f"{s}+" for s in selectors]]), False


def _load_source(settings: Settings, source: str) -> SourceOutcome:
    """One source's incremental load (its GRIDWAREHOUSE_RUN_<SOURCE>_DATASETS, or all of them)."""
    from loaders import commands

    commands.COLLECTED = []
    try:
        if source == "iris":
            return _iris_gap_check(settings)
        if source == "dno":
            kinds = [k for k in settings.run_datasets.get("dno") or () if k != "all"]
            code = commands.load_dno(
                settings, kinds, [], all_=not kinds, force=False, file=None, start=None, end=None
            )
        elif source in ("bmrs", "neso", "isone"):
            names = settings.run_datasets.get(source) or ("all",)
            every = names == ("all",)
            code = commands.load(
                settings, source, [] if every else list(names), all_=every, start=None, end=None
            )
        else:
            raise GridwarehouseError(f"unknown source {source}")
        summaries = commands.COLLECTED
    finally:
        commands.COLLECTED = None
    return _outcome(source, code, summaries)


def _outcome(source: str, code: int, summaries: list[Any]) -> SourceOutcome:
    outcome = SourceOutcome(source, code)
    for summary in summaries:
        for dataset, entry in summary.datasets.items():
            if entry.rows:
                outcome.rows += entry.rows
                outcome.tables.add(_selector(summary.source, dataset))
    return outcome


def _selector(source: str, dataset: str) -> str:
    """The dbt source selector for a dataset's raw table."""
    if source == "bmrs":
        from loaders.sources.bmrs.catalogue import load_catalogue

        return f"source:bmrs.{load_catalogue().get(dataset).table}"
    if source == "dno":
        return f"source:dno.{dataset.partition('.')[2]}"
    return f"source:{source}.{dataset.lower()}"


def _iris_gap_check(settings: Settings) -> SourceOutcome:
    """With the receiver down, back-fill from the API what IRIS would have delivered; with it
    up (its queue lock held) there is nothing to do: it back-fills its own gaps."""
    from loaders.sources.bmrs.catalogue import load_catalogue
    from loaders.sources.iris.gapfill import GapFiller
    from loaders.sources.iris.receiver import receiver_lock, resolve_config
    from loaders.sources.iris.stats import last_message_times

    config = resolve_config(settings)
    try:
        with receiver_lock(settings, config.queue):
            pass  # free: no receiver is running
    except GridwarehouseError:
        return SourceOutcome("iris", 0, note="receiver running")
    if settings.target != "duckdb" or not settings.duckdb_path.exists():
        return SourceOutcome("iris", 0, note="nothing received yet")
    from loaders.common.warehouse import connect_duckdb

    con = connect_duckdb(settings, read_only=True, ops_only=True)
    try:
        since = last_message_times(con, config.queue)
    finally:
        con.close()
    if not since:
        return SourceOutcome("iris", 0, note="nothing received yet")
    import threading

    log.warning("the IRIS receiver is not running: back-filling its datasets from the BMRS API")
    summary = GapFiller(settings, load_catalogue(), threading.Event()).fill(since, "run")
    outcome = _outcome("bmrs", summary.exit_code if summary else 0, [summary] if summary else [])
    outcome.source, outcome.note = "iris", "receiver not running: gap back-filled from the API"
    return outcome


def _alert(settings: Settings) -> None:
    try:
        from loaders.operations.alerts import check_and_send

        check_and_send(settings)
    except GridwarehouseError as exc:
        log.error("alerts not checked: %s", exc)
    except Exception:  # an alerting problem must not fail the loads it reports on
        log.exception("alerts not checked")


def _print_cycle(result: CycleResult) -> None:
    for o in result.outcomes:
        word = "ok" if o.exit_code == 0 else f"failed (exit {o.exit_code})"
        extra = f" — {o.note}" if o.note else ""
        print(f"run: {o.source}: {word}, {o.rows:,} new rows in {len(o.tables)} tables{extra}")
    if result.skipped:
        print(f"run: not due yet: {', '.join(result.skipped)}")
    if result.dbt_exit is not None:
        what = (
            "the whole project (first build of this version)"
            if result.full_build
            else f"{len(result.selectors)} changed sources and their downstream models"
        )
        print(f"run: dbt build of {what}: {'ok' if result.dbt_exit == 0 else 'failed'}")
    elif not result.selectors:
        print("run: no new rows; dbt build skipped")


def schedule(settings: Settings, every: str, *, cycles: int | None = None) -> int:
    """`gridwarehouse schedule --every 15m`: cycles in a loop until Ctrl-C / SIGTERM."""
    from loaders.commands import graceful_stop

    interval = parse_duration(every, "--every").total_seconds()
    done = 0
    worst = 0
    with graceful_stop() as stop:
        while not stop.is_set():
            began = time.monotonic()
            code = run_cycle(settings)
            worst = max(worst, code)
            done += 1
            if cycles is not None and done >= cycles:
                break
            wait = max(0.0, interval - (time.monotonic() - began))
            print(f"schedule: next cycle in {wait / 60:.1f} min (Ctrl-C to stop)", file=sys.stderr)
            stop.wait(wait)
    return worst
