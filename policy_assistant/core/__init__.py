"""The floor of the project: errors, settings and small text helpers. Imports nothing of the project."""
