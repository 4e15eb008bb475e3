"""Talking to Alma: the HTTP client and Alma's error bodies."""
