"""tidal.streams.dsl."""
