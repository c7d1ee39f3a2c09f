"""tidal.streams.serdes."""
