"""Helpers for the shipped CI pipelines (the GitHub Action lives in ``action/``)."""
