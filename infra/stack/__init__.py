"""The embedded Kafka-protocol broker, PostgreSQL and Redis, run as local child processes."""
