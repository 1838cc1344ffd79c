"""Brobygger service: configuration, the glue between database and matcher, API and CLI."""
