"""The floor of the project: errors, settings and record helpers. Imports nothing of the project."""
