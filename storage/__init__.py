"""The database: tables, engine setup, migrations and queries. Queries never commit."""
