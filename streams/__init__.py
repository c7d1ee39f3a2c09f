"""Tidal Streams: a stream-processing DSL over Tidal's log."""
