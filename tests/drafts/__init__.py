"""Drafts, templates and legal approval."""
