"""tidal.streams.runtime."""
