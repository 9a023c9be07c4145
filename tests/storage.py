"""The uploads' storage in the tests: a real S3 API (moto's standalone server) on loopback, buckets on it, and what a
storage holds. The fixtures `s3_server` and `s3` (tests/conftest.py) hand these out; a test that starts other
processes (`songnuan serve`, a scheduler) gives them `place.env`, and they share the bucket."""

from __future__ import annotations

import functools
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from workflows.infra.storage import LocalFolder, S3Bucket
from workflows.infra.uploads import Uploads

# boto3's standard chain reads these: fixed, fake credentials, and no developer's own ~/.aws files.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


@contextmanager
def running_s3() -> Iterator[str]:
    """moto's S3 server on a free loopback port (the OS picks it) until the block ends: its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def dead_endpoint() -> Iterator[str]:
    """The URL of a loopback port nothing answers on (bound, never listening: no one else can take it meanwhile),
    as a stopped storage service looks to a client: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@functools.cache
def client_of(endpoint_url: str) -> Any:
    """A boto3 client of the test server, to make buckets and look at them as an operator would (one per process:
    making a client takes a good part of a second)."""
    import boto3

    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"], region_name=CREDENTIALS["AWS_DEFAULT_REGION"])


def new_bucket(endpoint_url: str) -> str:
    name = f"songnuan-test-{secrets.token_hex(6)}"
    client_of(endpoint_url).create_bucket(Bucket=name)
    return name


@dataclass(frozen=True)
class S3Place:
    """A bucket, and a key prefix in it, on the test's S3 server."""

    endpoint_url: str
    bucket: str
    prefix: str = ""
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        # What a process needs to keep its uploads here: the application's settings and boto3's credentials.
        object.__setattr__(self, "env", {"SONGNUAN_S3_BUCKET": self.bucket,
                                         "SONGNUAN_S3_ENDPOINT_URL": self.endpoint_url,
                                         "SONGNUAN_S3_PREFIX": self.prefix, **CREDENTIALS})

    def storage(self) -> S3Bucket:
        return S3Bucket(self.bucket, self.endpoint_url, self.prefix)

    def client(self) -> Any:
        return client_of(self.endpoint_url)

    def objects(self) -> list[str]:
        """The full key of every object under the place's prefix."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


def stored(uploads: Uploads) -> list[str]:
    """Everything the uploads' storage holds: for a folder every file in it, partial ones included; for a bucket
    every object under its prefix."""
    storage = uploads.storage
    if isinstance(storage, LocalFolder):
        return sorted(path.name for path in storage.root.iterdir()) if storage.root.exists() else []
    assert isinstance(storage, S3Bucket)
    pages = storage.client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket, Prefix=storage.prefix)
    return sorted(item["Key"][len(storage.prefix):] for page in pages for item in page.get("Contents", ()))


def settings_of(uploads: Uploads) -> dict[str, Any]:
    """app.config.Settings' fields that give an application the same storage as `uploads`."""
    storage = uploads.storage
    if isinstance(storage, LocalFolder):
        return {"upload_dir": str(storage.root)}
    return {"s3_bucket": storage.bucket, "s3_endpoint_url": storage.endpoint_url, "s3_prefix": storage.prefix}
