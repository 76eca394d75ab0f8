"""resolution-qa: cited answers about UN resolutions, in French or English."""

__version__ = "0.1.0"
