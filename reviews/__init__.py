"""Attest: verified reviews from real orders."""

__version__ = "0.1.0"
