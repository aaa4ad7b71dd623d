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
    native = _default_credentials()
    creds = GcpServiceAccountCredentials()
    creds.project_id = project
    GcpDefaultCredentials.parse_native_representation(creds, native)
    return dlt.destinations.bigquery(credentials=creds, location=settings.bq_location)


def _default_credentials() -> Any:
    """Application Default Credentials, or one line saying how to get some."""
    import google.auth

    try:
        native, _ = google.auth.default()
    except google.auth.exceptions.DefaultCredentialsError:
        raise ConfigError(
            "GRIDWAREHOUSE_TARGET=bigquery found no Google credentials: set "
            "GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run "
            "`gcloud auth application-default login`"
        ) from None
    return native


def check_bigquery_access(settings: Settings) -> None:
    """Before any work (a load's fetching, dbt's parsing): the project is set, credentials are
    found, and they can list the project's datasets. One line (ConfigError, exit 2) if not."""
    project = require_bigquery_settings(settings)
    if os.environ.get("BIGQUERY_EMULATOR_HOST"):
        return  # a local emulator (tests) takes anyone
    key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if key_file:
        if not os.path.exists(key_file):
            raise ConfigError(
                f"GOOGLE_APPLICATION_CREDENTIALS points to {key_file}, which does not exist"
            )
        from google.oauth2 import service_account

        try:
            native = service_account.Credentials.from_service_account_file(key_file)
        except (ValueError, KeyError) as exc:
            raise ConfigError(
                f"GOOGLE_APPLICATION_CREDENTIALS={key_file} is not a service account key file "
                f"({type(exc).__name__})"
            ) from None
    else:
        native = _default_credentials()
    _check_project_access(project, native, settings.bq_location)


def _check_project_access(project: str, credentials: Any, location: str) -> None:
    """One cheap call (list one dataset) that fails fast on a wrong project or missing role."""
    import google.api_core.exceptions
    import google.auth.exceptions
    from google.cloud import bigquery

    client = bigquery.Client(project=project, credentials=credentials, location=location)
    try:
        list(client.list_datasets(max_results=1, timeout=30))
    except (
        google.api_core.exceptions.GoogleAPIError,
        google.auth.exceptions.GoogleAuthError,
    ) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"cannot use BigQuery project {project} with these credentials: {reason}. The "
            "account needs BigQuery Job User and Data Editor (see docs/bigquery.md)"
        ) from None
    finally:
        client.close()
