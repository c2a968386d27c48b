"""A real S3 API over HTTP for photo storage tests: moto in server mode, started once per test session, with one
fresh public-read bucket per test (read by anyone, written with keys, as a production bucket is)."""

import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from config.storage import s3_storage

ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "test-secret-key"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 on loopback; yields its endpoint URL."""
    port = _free_port()
    moto_server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=5)
                break
            except requests.RequestException:  # refused, or accepted while the server still starts: asked again
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name=REGION,
    )


class Bucket:
    def __init__(self, endpoint: str, name: str):
        self.endpoint = endpoint
        self.name = name
        self.public_url = f"{endpoint}/{name}"
        self.client = s3_client(endpoint)

    def keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def head(self, key: str) -> dict:
        return self.client.head_object(Bucket=self.name, Key=key)


@pytest.fixture
def s3_bucket(s3_server, settings):
    """A fresh bucket anyone may read, and the photo storage pointed at it as MEDIA_S3_* would."""
    bucket = Bucket(s3_server, f"nexus-photos-{uuid.uuid4().hex[:12]}")
    bucket.client.create_bucket(Bucket=bucket.name)
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket.name}/*",
            }
        ],
    }
    bucket.client.put_bucket_policy(Bucket=bucket.name, Policy=json.dumps(public_read))
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket=bucket.name,
            endpoint_url=s3_server,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
            public_url=bucket.public_url,
            cache_control=settings.MEDIA_CACHE_CONTROL,
        ),
    }
    return bucket
