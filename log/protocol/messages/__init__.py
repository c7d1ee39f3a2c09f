"""Declarations of the Kafka API messages, one module per API."""
