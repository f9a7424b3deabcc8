"""政策助手: shared configuration, errors and the command-line front end."""

__version__ = "0.1.0"
