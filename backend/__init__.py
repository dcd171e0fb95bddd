"""jobdash: live jobs dashboard for a media-library orchestrator."""

__version__ = "0.1.0"
