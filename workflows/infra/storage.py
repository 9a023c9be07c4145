"""Where uploaded files are kept: a folder on this machine (the default), or an S3-compatible bucket shared by
several hosts (AWS S3, MinIO, ...) through boto3. Both keep bytes under a key (an upload's id) and say the same
two things when they fail: the key is not there (Missing), or the storage could not be reached (Unavailable, a
refusal the screens answer with 503). Keeping files in step with the database is workflows.infra.uploads' work.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from workflows.errors import DomainError
from workflows.texts import N_

log = logging.getLogger(__name__)


class Missing(LookupError):
    """No file is stored under the key."""


class Unavailable(DomainError):
    """The storage could not be reached or refused the operation: nothing was stored (or read)."""

    code = "unavailable"

    def __init__(self, message: str = N_("文件存储暂时无法使用，请稍后再试")) -> None:
        super().__init__(message)


class Storage(Protocol):
    def put(self, key: str, content: bytes) -> None:
        """Store `content` under `key`, replacing what was there; all of it or nothing under that key."""

    def get(self, key: str) -> bytes:
        """The bytes under `key`; Missing if there are none."""

    def delete(self, key: str) -> None:
        """Remove `key`; nothing happens if it is not there."""

    def keys(self) -> Iterator[str]:
        """Every key stored, in no particular order."""

    def problem(self) -> str | None:
        """What stops this storage from keeping files, for the operator starting a server (with the setting to
        look at, as the command line says its errors); None when it can."""


def _key(key: str) -> str:
    # Keys are the uploads' ids (hex): never a path, never a name the storage would read otherwise.
    if not (key.isascii() and key.isalnum()):
        raise ValueError("bad upload key")
    return key


class LocalFolder:
    """Files in one folder, readable by their owner only: the papers are personal (ID cards, bank cards)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalFolder({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / _key(key)

    def put(self, key: str, content: bytes) -> None:
        path = self.path(key)
        partial = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(content)
            os.replace(partial, path)  # never a half-written file under the final name
        except OSError as error:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            log.error("upload folder %s: cannot write %s: %s", self.root, key, error)
            raise Unavailable(N_("文件存储暂时无法使用，文件没有保存，请稍后再试")) from None

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise Missing(key) from None
        except OSError as error:
            log.error("upload folder %s: cannot read %s: %s", self.root, key, error)
            raise Unavailable() from None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def problem(self) -> str | None:
        probe = self.root / f"songnuan-check-{secrets.token_hex(4)}"  # not an upload's name: never listed
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            return f"无法写入上传文件夹 {self.root}：{error.strerror}（SONGNUAN_UPLOAD_DIR）"
        return None

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        with os.scandir(self.root) as entries:  # closed even when the caller stops early
            for entry in entries:
                # A partial file left by a crash mid-write is no upload.
                if entry.is_file() and entry.name.isascii() and entry.name.isalnum():
                    yield entry.name


class S3Bucket:
    """Objects in a bucket of an S3-compatible service, under an optional prefix. Credentials and region come from
    boto3's standard chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, an instance role, ...).
    Objects are written without any ACL, so they stay private to the bucket's owner; `encryption` ("AES256",
    "aws:kms") asks for server-side encryption of each object where the service supports it."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, prefix: str = "",
                 encryption: str | None = None) -> None:
        if endpoint_url and ("@" in urlsplit(endpoint_url).netloc):
            # It would be shown in every log line about the storage: the credentials have their own settings.
            raise ValueError("SONGNUAN_S3_ENDPOINT_URL must not carry a user or password: "
                             "give them as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        self.bucket, self.endpoint_url, self.encryption = bucket, endpoint_url or None, encryption or None
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def __repr__(self) -> str:
        return f"S3Bucket({self.bucket!r}, prefix={self.prefix!r}, endpoint_url={self.endpoint_url!r})"

    @cached_property
    def client(self) -> Any:
        # Imported on first use: boto3 takes a noticeable time to import, and only S3 deployments need it.
        import boto3
        from botocore.config import Config

        # An upload waits on this call: fail within seconds when the service is down rather than retry for long.
        config = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 2})
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, config=config)

    def _name(self, key: str) -> str:
        return self.prefix + _key(key)

    def _unavailable(self, doing: str, key: str, error: Exception, message: str | None = None) -> Unavailable:
        log.error("bucket %s: cannot %s %s: %s", self.bucket, doing, key, error)
        return Unavailable(message) if message else Unavailable()

    def put(self, key: str, content: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {"ServerSideEncryption": self.encryption} if self.encryption else {}
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=content, **extra)
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable("write", key, error,
                                    N_("文件存储暂时无法使用，文件没有保存，请稍后再试")) from None

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise Missing(key) from None
            raise self._unavailable("read", key, error) from None
        except BotoCoreError as error:
            raise self._unavailable("read", key, error) from None

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))  # S3 answers alike if it is gone
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable("delete", key, error) from None

    def problem(self) -> str | None:
        """A misconfiguration (no such bucket, no credentials, a key that may not write or delete there) is a
        problem; a service that does not answer is not one (it is logged): the server starts, and uploads say
        "try later" until the service is back."""
        from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError
        from botocore.exceptions import ConnectionError as Unreachable

        probe = f"{self.prefix}songnuan-check-{secrets.token_hex(4)}"  # not an upload's name: never listed
        where = f"{self.bucket}（{self.endpoint_url or 'AWS'}）"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except NoCredentialsError:
            return f"S3 存储桶 {where}：没有访问凭据，请设置 AWS_ACCESS_KEY_ID 和 AWS_SECRET_ACCESS_KEY"
        except (Unreachable, HTTPClientError) as error:
            log.warning("bucket %s: not answering at start (%s); uploads will be refused until it does", where,
                        error)
            return None
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket"):
                return f"S3 存储桶 {where} 不存在（SONGNUAN_S3_BUCKET）"
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return (f"无权在 S3 存储桶 {where} 中写入和删除文件：请检查 AWS_ACCESS_KEY_ID、"
                        "AWS_SECRET_ACCESS_KEY 和存储桶的访问策略")
            return f"S3 存储桶 {where} 拒绝写入：{code or error}"
        except BotoCoreError as error:
            return f"无法使用 S3 存储桶 {where}：{error}（SONGNUAN_S3_ENDPOINT_URL）"
        return None

    def keys(self) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                                Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    key = item["Key"][len(self.prefix):]
                    if key.isascii() and key.isalnum():  # not another application's objects under the prefix
                        yield key
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable("list", self.prefix or "/", error) from None
