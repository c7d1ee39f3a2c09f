"""Tidal's broker: a Kafka-compatible server over the storage engine."""
