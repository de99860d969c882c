"""The WSGI service: coverage by range as JSON and PNG, reads, files with Range, a browser page."""
