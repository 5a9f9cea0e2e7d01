"""VoicePay core: configuration, storage, accounts, logging and the command line."""

__version__ = "0.1.0"
