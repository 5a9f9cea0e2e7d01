"""Keeps card data out of the Stripe SDK's own logging.

What stripe-python 16.1 logs (``stripe/_util.py``, ``stripe/_api_requestor.py``,
``stripe/_http_client.py``), always on the ``"stripe"`` logger whatever ``stripe.log`` says:

- DEBUG ``Post details``: the whole form body, so ``card[number]``, ``card[cvc]`` and the expiry
  of every PaymentMethod request.
- DEBUG ``API response body``: the whole response, which echoes the card's expiry.
- DEBUG ``Dashboard link for request``.
- INFO ``Request to Stripe api`` (method, URL), ``Stripe API response`` (URL, status),
  ``Initiating retry ...``, ``Encountered a retryable error ...`` (connection error text).
- INFO ``Stripe v1 API error received``: Stripe's error message and parameter name.

On top of that, when ``stripe.log`` or the ``STRIPE_LOG`` environment variable (read once, at
import) is ``"debug"``, the SDK prints the DEBUG lines to stderr, bypassing logging altogether.

So the gateway installs a filter on the ``"stripe"`` logger that lets through only the four
INFO messages that carry no payload (an allow-list, so a message added by a future SDK version is
dropped until reviewed), and refuses to run while console debug output is on. A logger filter
applies whatever level or handler another part of the process configures.
"""

from __future__ import annotations

import logging

import stripe
import stripe._util

_SDK_LOGGER = "stripe"
# The SDK formats records as logfmt with sorted keys; these messages sort first.
_ALLOWED_PREFIXES = (
    "message='Request to Stripe api'",
    "message='Stripe API response'",
    "message='Initiating retry ",
    "message='Encountered a retryable error ",
)


class _PayloadFreeRecords(logging.Filter):
    """Passes only the SDK's INFO records known to carry no request or response data."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno == logging.INFO and record.getMessage().startswith(_ALLOWED_PREFIXES)


def guard_sdk_logging() -> None:
    """Install the ``"stripe"`` logger filter once per process."""
    sdk_logger = logging.getLogger(_SDK_LOGGER)
    if not any(isinstance(existing, _PayloadFreeRecords) for existing in sdk_logger.filters):
        sdk_logger.addFilter(_PayloadFreeRecords())


def sdk_prints_bodies() -> bool:
    """Whether the SDK is set to print request bodies to stderr (``stripe.log = "debug"``)."""
    return "debug" in (stripe.log, stripe._util.STRIPE_LOG)
