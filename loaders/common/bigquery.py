"""BigQuery as the warehouse: dlt's BigQuery destination from the GRIDWAREHOUSE_BQ_* settings."""

from __future__ import annotations

import os
from typing import Any

from loaders.errors import ConfigError
from loaders.settings import Settings


def require_bigquery_settings(settings: Settings) -> str:
    """The project id, or one clear message naming the missing variable."""
    if not settings.bq_project:
        raise ConfigError(
            "GRIDWAREHOUSE_TARGET=bigquery needs GRIDWAREHOUSE_BQ_PROJECT (the Google Cloud "
            "project id); credentials come from Application Default Credentials or "
            "GOOGLE_APPLICATION_CREDENTIALS"
        )
    return settings.bq_project


def bigquery_destination(settings: Settings) -> Any:
    """dlt BigQuery destination; credentials via ADC or GOOGLE_APPLICATION_CREDENTIALS."""
    import dlt
    from dlt.common.configuration.specs import GcpServiceAccountCredentials
    from dlt.common.configuration.specs.gcp_credentials import GcpDefaultCredentials

    project = require_bigquery_settings(settings)
    key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if os.environ.get("BIGQUERY_EMULATOR_HOST"):
        # A local emulator (tests): anonymous credentials, no Google round trip; the emulator
        # cannot read dlt's gzipped load files.
        from google.auth.credentials import AnonymousCredentials

        os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
        creds = GcpServiceAccountCredentials()
        creds.project_id = project
        GcpDefaultCredentials.parse_native_representation(creds, AnonymousCredentials())
        return dlt.destinations.bigquery(credentials=creds, location=settings.bq_location)
    if key_file:
        if not os.path.exists(key_file):
            raise ConfigError(
                f"GOOGLE_APPLICATION_CREDENTIALS points to {key_file}, which does not exist"
            )
        with open(key_file, encoding="utf-8") as fh:
            creds = GcpServiceAccountCredentials()
            creds.parse_native_representation(fh.read())
        creds.project_id = project
        return dlt.destinations.bigquery(credentials=creds, location=settings.bq_location)
    import google.auth

    try:
        native, _ = google.auth.default()
    except google.auth.exceptions.DefaultCredentialsError as exc:
        raise ConfigError(
            "GRIDWAREHOUSE_TARGET=bigquery found no Google credentials: run "
            "`gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS "
            f"({exc})"
        ) from None
    creds = GcpServiceAccountCredentials()
    creds.project_id = project
    GcpDefaultCredentials.parse_native_representation(creds, native)
    return dlt.destinations.bigquery(credentials=creds, location=settings.bq_location)
