"""Alerts, once per incident: stale or failing datasets, a dead IRIS receiver, IRIS connection
drops and the IRIS client secret nearing expiry are sent to GRIDWAREHOUSE_ALERT_WEBHOOK
(Slack-compatible JSON) and/or e-mailed to GRIDWAREHOUSE_ALERT_EMAIL (SMTP_* settings) when they
open, with a short note when they clear — not again on every cycle while they last.

Open incidents are remembered in `data/alerts.state.json`, per channel, so a channel that was
down when an incident opened is told on the next cycle and the others are not told twice.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from loaders.common.jsonfile import read_json, write_json
from loaders.logs import redact, redact_value
from loaders.operations.status_report import Report, collect, human_lag
from loaders.settings import Settings
from loaders.sources.iris.stats import secret_warning

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incident:
    key: str
    summary: str


def incidents(report: Report, settings: Settings) -> dict[str, Incident]:
    """What is wrong now, keyed so the same problem keeps the same key across cycles."""
    found: dict[str, Incident] = {}
    for d in report.datasets:
        if d.state in ("stale", "failing", "never"):
            detail = {
                "failing": f"latest load failed: {d.last_error}",
                "never": "scheduled but never loaded",
            }.get(d.state, f"{human_lag(d.lag_s)} behind (threshold {human_lag(d.threshold_s)})")
            key = f"dataset:{d.source}.{d.dataset}"
            found[key] = Incident(key, f"{d.source} {d.dataset} is {d.state}: {detail}")
    for q in report.iris:
        if q.state == "stale":
            key = f"iris-receiver:{q.queue}"
            found[key] = Incident(
                key, f"IRIS receiver for queue {q.queue} has not reported since {q.last_seen_at}"
            )
        if q.connection_drops_24h:
            key = f"iris-drops:{q.queue}"
            found[key] = Incident(
                key, f"IRIS queue {q.queue}: {q.connection_drops_24h} connection drops in 24h"
            )
    warning = secret_warning(settings.iris_secret_expires)
    if warning:
        found["iris-secret"] = Incident("iris-secret", warning)
    return found


def channels(settings: Settings) -> list[str]:
    out = []
    if settings.secret("GRIDWAREHOUSE_ALERT_WEBHOOK"):
        out.append("webhook")
    if settings.alert_email and settings.smtp_host:
        out.append("email")
    return out


def _state_path(settings: Settings) -> Path:
    return settings.data_dir / "alerts.state.json"


def _load(settings: Settings) -> dict[str, Any]:
    return read_json(_state_path(settings))


def _save(settings: Settings, state: dict[str, Any]) -> None:
    write_json(_state_path(settings), redact_value(state))


def check_and_send(settings: Settings, report: Report | None = None) -> dict[str, list[str]]:
    """Compare what is wrong now with the open incidents; tell each channel what opened and
    what cleared. Returns {channel: [messages sent]}."""
    report = report or collect(settings)
    now = incidents(report, settings)
    state = _load(settings)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for key, incident in now.items():
        state.setdefault(key, {"opened_at": stamp, "summary": incident.summary, "told": []})
    sent: dict[str, list[str]] = {}
    for channel in channels(settings):
        opened = [k for k, v in state.items() if k in now and channel not in v["told"]]
        cleared = [k for k, v in state.items() if k not in now and channel in v["told"]]
        if not opened and not cleared:
            continue
        text = redact(_message(state, now, opened, cleared)) or ""
        try:
            _send(settings, channel, text, len(opened), len(cleared))
        except Exception as exc:  # told next cycle; the loads carry on
            log.error("alert via %s failed: %s", channel, exc)
            continue
        sent.setdefault(channel, []).append(text)
        for key in opened:
            state[key]["told"].append(channel)
        for key in cleared:
            state[key]["told"].remove(channel)
    for key in [k for k, v in state.items() if k not in now and not v["told"]]:
        del state[key]  # cleared everywhere it was told
    if not channels(settings):
        for key in now:
            if not state[key].get("logged"):
                log.warning("incident (no alert channel configured): %s", now[key].summary)
                state[key]["logged"] = True
    _save(settings, state)
    return sent


def _message(
    state: dict[str, Any], now: dict[str, Incident], opened: list[str], cleared: list[str]
) -> str:
    lines = []
    if opened:
        lines.append(f":rotating_light: gridwarehouse: {len(opened)} new incident(s)")
        lines += [f"• {now[k].summary}" for k in opened]
    if cleared:
        lines.append(f":white_check_mark: gridwarehouse: {len(cleared)} incident(s) cleared")
        lines += [f"• {state[k]['summary']} (open since {state[k]['opened_at']})" for k in cleared]
    return "\n".join(lines)


def _send(settings: Settings, channel: str, text: str, opened: int, cleared: int) -> None:
    if channel == "webhook":
        url = settings.secret("GRIDWAREHOUSE_ALERT_WEBHOOK") or ""
        response = httpx.post(url, json={"text": text}, timeout=10)
        if response.status_code >= 300:
            raise RuntimeError(f"webhook answered HTTP {response.status_code}")
        return
    message = EmailMessage()
    message["Subject"] = (
        f"gridwarehouse: {opened} new incident(s)"
        if opened
        else f"gridwarehouse: {cleared} cleared"
    )
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.alert_email)
    message.set_content(text)
    with smtplib.SMTP(str(settings.smtp_host), settings.smtp_port, timeout=15) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls and smtp.has_extn("starttls"):
            smtp.starttls()
            smtp.ehlo()
        password = settings.secret("SMTP_PASSWORD")
        if settings.smtp_user and password:
            smtp.login(settings.smtp_user, password)
        smtp.send_message(message)
