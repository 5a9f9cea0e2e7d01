"""The ``voicepay`` command line: demo calls, chat, the LiveKit worker and admin commands.

The root application lives in :mod:`voicepay.cli._app`; importing this package stays cheap so
that sub-apps such as :mod:`voicepay.cli.accounts` load without the voice stack.
"""
