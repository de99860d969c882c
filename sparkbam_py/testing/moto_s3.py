"""A real S3-protocol server on loopback (moto in server mode), for tests and benchmarks.

Reads then go through s3fs and botocore exactly as against AWS: signed requests, HEADs for
sizes, ranged GETs, ListObjectsV2 for globs.  Needs the ``test`` extra (``moto[server]``)
and the ``s3`` extra (``s3fs``).  Not for anything beyond localhost.

    with MotoS3() as s3:
        s3.upload("bams", "x/a.bam", local_path)
        s3.storage_options  # {"endpoint_url": ..., "key": ..., "secret": ...}
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict

# Any credentials do for moto; real ones must never be needed by a test.
ACCESS_KEY, SECRET_KEY, REGION = "sparkbam-test-key", "sparkbam-test-secret", "us-east-1"


class MotoS3:
    """moto's S3 on ``127.0.0.1`` at a free port, in a thread of this process."""

    def __init__(self, port: int = 0):
        # Port 0: the server binds any free port itself and ``start`` reads it back.  A port
        # probed here and bound later could be taken in between, and moto's thread would
        # then die while ``start`` waited for it forever.
        self.port = port
        self._server = None
        self._client = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage_options(self) -> Dict[str, str]:
        """s3fs keywords reaching this server: what ``storage.*`` options carry."""
        return {"endpoint_url": self.endpoint_url, "key": ACCESS_KEY, "secret": SECRET_KEY}

    @property
    def environment(self) -> Dict[str, str]:
        """The environment variables boto3 and s3fs read for the same."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_ENDPOINT_URL": self.endpoint_url, "AWS_DEFAULT_REGION": REGION}

    def start(self) -> "MotoS3":
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=ACCESS_KEY,
                                        aws_secret_access_key=SECRET_KEY, region_name=REGION)
        return self._client

    def create_bucket(self, bucket: str) -> None:
        self.client().create_bucket(Bucket=bucket)

    def upload(self, bucket: str, key: str, path) -> str:
        """Puts the local file ``path`` at ``s3://bucket/key``; returns that URL."""
        self.client().put_object(Bucket=bucket, Key=key, Body=Path(path).read_bytes())
        return f"s3://{bucket}/{key}"

    def __enter__(self) -> "MotoS3":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
