"""tidal.streams.testing."""
