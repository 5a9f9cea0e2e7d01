"""The human agents' web console: live hand-off queue, transfer briefs, feedback and audit.

Start it with ``voicepay console serve``; create the first (supervisor) account with
``voicepay console create-user NAME --role supervisor``. There are no default users.
"""

from voicepay.console.app import create_app
from voicepay.console.config import ConsoleConfig, ConsoleConfigError, session_secret

__all__ = ["ConsoleConfig", "ConsoleConfigError", "create_app", "session_secret"]
