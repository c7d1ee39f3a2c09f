"""Tidal Connect: source and sink connectors and their runtime."""
