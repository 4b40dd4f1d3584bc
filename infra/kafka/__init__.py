"""Kafka adapters: clients, broker compatibility, topic administration, dead letters."""
