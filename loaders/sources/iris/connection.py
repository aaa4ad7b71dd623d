"""The IRIS subscription: settings resolved into a queue and credentials, and the Service Bus
client for them (a connection string, or the app registration's client secret)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from loaders.errors import ConfigError
from loaders.settings import Settings


@dataclass(frozen=True)
class IrisConfig:
    queue: str
    namespace: str
    connection_string: str | None = field(default=None, repr=False)
    client_id: str | None = None
    tenant_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)


def resolve_config(settings: Settings) -> IrisConfig:
    """The subscription from the environment, or a clear error naming what is missing."""
    cs = settings.secret("IRIS_CONNECTION_STRING")
    if cs:
        check_connection_string(cs)
        entity = re.search(r"(?i)(?:^|;)\s*EntityPath=([^;]+)", cs)
        queue = settings.iris_queue_name or (entity.group(1).strip() if entity else None)
        if not queue:
            raise ConfigError(
                "IRIS_CONNECTION_STRING has no EntityPath: set IRIS_QUEUE_NAME to the queue name"
            )
        return IrisConfig(queue=queue, namespace=settings.iris_namespace, connection_string=cs)
    values = {
        "IRIS_CLIENT_ID": settings.iris_client_id,
        "IRIS_CLIENT_SECRET": settings.secret("IRIS_CLIENT_SECRET"),
        "IRIS_TENANT_ID": settings.iris_tenant_id,
        "IRIS_QUEUE_NAME": settings.iris_queue_name,
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(
            f"IRIS needs {', '.join(missing)} (from your IRIS subscription on the Elexon portal), "
            "or IRIS_CONNECTION_STRING; see docs/sources.md, 'IRIS'"
        )
    return IrisConfig(
        queue=str(settings.iris_queue_name),
        namespace=settings.iris_namespace,
        client_id=settings.iris_client_id,
        tenant_id=settings.iris_tenant_id,
        client_secret=settings.secret("IRIS_CLIENT_SECRET"),
    )


def check_connection_string(cs: str) -> None:
    """Refuse a connection string the SDK cannot use, before anything is opened or written: one
    line naming the variable and what is wrong (the SDK's words, never the string's values)."""
    from azure.servicebus import parse_connection_string

    try:
        endpoint = urlsplit(parse_connection_string(cs).endpoint)
        if not endpoint.hostname:
            raise ValueError("Endpoint has no host name.")
        if endpoint.netloc.rpartition(":")[2] and not _has_numeric_port(endpoint.netloc):
            raise ValueError("the Endpoint's port is not a number.")
    except ValueError as exc:
        pairs = (part.partition("=") for part in cs.split(";"))
        secrets = [v for k, _, v in pairs if v and k.strip().lower().startswith("sharedaccess")]
        detail = str(exc) if not any(v in str(exc) for v in secrets) else "it could not be parsed"
        raise ConfigError(
            f"IRIS_CONNECTION_STRING is malformed: {detail.rstrip('.')}. Expected "
            "Endpoint=sb://<namespace>/;SharedAccessKeyName=<name>;SharedAccessKey=<key> "
            "(or SharedAccessSignature=<sas>), optionally ;EntityPath=<queue>"
        ) from None


def _has_numeric_port(netloc: str) -> bool:
    """host or host:port with a number (urlsplit's .port would raise on anything else)."""
    host, colon, port = netloc.rpartition("@")[2].rpartition(":")
    return not colon or (port.isdigit() and bool(host))


# The SDK's own retries would hide a dropped connection from the receive loop; with none, the
# loop sees every drop, counts it, backs off, reconnects and asks for the gap back-fill itself.
CLIENT_OPTIONS = {"retry_total": 0}


def make_client(config: IrisConfig) -> Any:
    """A ServiceBusClient: SAS/emulator connection string, or the app registration's secret."""
    from azure.servicebus import ServiceBusClient

    if config.connection_string:
        return ServiceBusClient.from_connection_string(config.connection_string, **CLIENT_OPTIONS)
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(
        str(config.tenant_id), str(config.client_id), str(config.client_secret)
    )
    return ServiceBusClient(config.namespace, credential, **CLIENT_OPTIONS)
