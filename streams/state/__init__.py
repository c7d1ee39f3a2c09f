"""tidal.streams.state."""
