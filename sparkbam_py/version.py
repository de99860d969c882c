"""The package version, apart from the package face so that any module may read it."""

__version__ = "0.2.0"
