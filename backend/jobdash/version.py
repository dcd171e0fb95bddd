"""The version of jobdash: one definition, read by the package metadata and the API."""

__version__ = "0.1.0"
