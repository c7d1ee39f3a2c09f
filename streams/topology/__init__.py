"""tidal.streams.topology."""
