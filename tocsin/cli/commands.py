"""Imports every command module so that each registers its commands on the app."""

from tocsin.cli import admin, incidents, obligations, people  # noqa: F401
