"""Test tools, as ``pyspark.testing`` and ``numpy.testing`` ship theirs: for tests and benchmarks only.

Nothing in the library imports this package, and nothing here is read by executors.

- :mod:`.http_server`: ``RangeHTTPServer``, a loopback HTTP server for one directory with
  ``Range`` requests and an optional delay per request (a remote store's latency);
- :mod:`.fault_proxy`: ``FaultProxy``, a loopback proxy answering a seeded share of byte reads
  badly (dropped, cut, short, stalled, 500/503), for the retry path;
- :mod:`.moto_s3`: ``MotoS3``, a real S3-protocol server on loopback (moto, the ``test`` extra).

Import the module you need (``from sparkbam_py.testing.http_server import RangeHTTPServer``):
each pulls in only what it serves.
"""
