"""The broadcaster service (``botctl broadcaster``): sends owners' confirmed announcements."""
