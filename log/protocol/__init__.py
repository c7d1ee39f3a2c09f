"""Sans-I/O Kafka wire protocol codec (placeholder docstring, completed below)."""
