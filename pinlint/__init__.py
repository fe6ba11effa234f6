"""pinlint: find what pins or leaks connections behind RDS Proxy and PgBouncer."""

__version__ = "0.1.0"
