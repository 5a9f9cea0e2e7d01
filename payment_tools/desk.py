"""The payment desk: the one door between the agent and card data.

The agent asks the desk to capture a card and gets back only a :class:`CardEntry` (brand, last
four, processor token, typed errors); it asks the desk to charge a token and gets back a
:class:`~payment_tools.gateway.ChargeResult`. The digits are typed into the capture engine, handed
to the processor for tokenisation and wiped, all inside this call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from payment_tools.capture import (
    CaptureErrorType,
    CaptureField,
    CaptureOptions,
    CaptureProgress,
    CapturePrompter,
    CaptureStatus,
    KeySource,
    capture_card,
)
from payment_tools.gateway import (
    CardRejected,
    ChargeRequest,
    ChargeResult,
    DeclineReason,
    GatewayError,
    PaymentGateway,
)


@dataclass(frozen=True, slots=True)
class CardEntry:
    """The outcome of a keypad card capture, without a single card digit.

    Attributes:
        status: Twilio-style capture result.
        brand: card brand, when the number was valid.
        last4: last four digits, when the number was valid.
        token: the processor's reusable token, only when ``status`` is success.
        errors: every typed error the caller ran into, in order.
        failed_field: the field that ran out of attempts, if any.
        rejection: why the processor refused the card at tokenisation, if it did.
    """

    status: CaptureStatus
    brand: str | None = None
    last4: str | None = None
    token: str | None = None
    errors: tuple[CaptureErrorType, ...] = ()
    failed_field: CaptureField | None = None
    rejection: DeclineReason | None = None


class PaymentDesk:
    """Captures cards on the keypad and charges them through one gateway.

    Args:
        gateway: the processor (Stripe or the offline sandbox).
        options: capture options (accepted brands, timeouts, attempts, fields).
    """

    def __init__(self, gateway: PaymentGateway, options: CaptureOptions) -> None:
        self._gateway = gateway
        self._options = options

    @property
    def gateway_name(self) -> str:
        """Which processor this desk charges through."""
        return self._gateway.name

    async def capture(
        self,
        keys: KeySource,
        prompter: CapturePrompter,
        *,
        idempotency_key: str,
        on_progress: Callable[[CaptureProgress], None] | None = None,
    ) -> CardEntry:
        """Capture a card from ``keys`` and tokenise it; the digits never leave this call."""
        result = await capture_card(keys, prompter, self._options, on_progress)
        brand = result.masked.brand if result.masked else None
        last4 = result.masked.last4 if result.masked else None
        card = result.card
        if result.status is not CaptureStatus.SUCCESS or card is None:
            return CardEntry(
                status=result.status,
                brand=brand,
                last4=last4,
                errors=result.errors,
                failed_field=result.failed_field,
            )
        try:
            token = await self._gateway.tokenize(card, idempotency_key=idempotency_key)
        except CardRejected as rejected:
            return CardEntry(
                status=CaptureStatus.PAYMENT_CONNECTOR_ERROR,
                brand=brand,
                last4=last4,
                errors=result.errors,
                rejection=rejected.reason,
            )
        except GatewayError:
            return CardEntry(
                status=CaptureStatus.PAYMENT_CONNECTOR_ERROR,
                brand=brand,
                last4=last4,
                errors=result.errors,
            )
        finally:
            card.wipe()
        return CardEntry(
            status=CaptureStatus.SUCCESS,
            brand=token.brand,
            last4=token.last4,
            token=token.token,
            errors=result.errors,
        )

    async def create_customer(self, *, account_number: str, idempotency_key: str) -> str:
        """Create (idempotently) the processor customer an account's saved card belongs to.

        Raises:
            ValueError: the account number or idempotency key is empty.
            GatewayUnavailable: retry with the same key.
            GatewayError: any other processor error.
        """
        return await self._gateway.create_customer(
            account_number=account_number, idempotency_key=idempotency_key
        )

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge a token; declines and unknown outcomes come back as results, never raised."""
        return await self._gateway.charge(request)

    async def aclose(self) -> None:
        """Release the gateway's connections."""
        await self._gateway.aclose()
