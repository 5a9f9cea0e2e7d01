"""Workflow transitions of a secure payment link: sent, withdrawn, paid (by webhook) or expired."""

from __future__ import annotations

from datetime import UTC, datetime

from agent._workflow_model import (
    CallStateFields,
    CardOnCall,
    ChargeState,
    LinkStatus,
    Step,
    Transition,
)


class LinkTransitions(CallStateFields):
    """Payment-link transitions; mixed into :class:`agent.workflow.CallState`."""

    def can_send_link(self) -> bool:
        """Whether a secure payment link may be sent now (instead of, or after, the keypad)."""
        return (
            self.step in (Step.AMOUNT, Step.CAPTURE, Step.CONFIRM)
            and self.verified
            and self.amount_minor is not None
            and self.currency is not None
            and self.charge_state is not ChargeState.PENDING
            and not self.paid
            and self.plan is None
            and self.link_status is not LinkStatus.OPEN
        )

    def link_key(self) -> str:
        """The idempotency key of a link for the agreed terms: the same terms give the same link."""
        self._require_open()
        self._require(self.can_send_link(), "link_not_expected")
        return f"{self.call_id}:link:{self.link_attempt}:{self.amount_minor}:{self.currency}"

    def link_sent(self, session_id: str, key: str) -> None:
        """A link for ``key``'s terms was created; keypad and amount wait until it settles."""
        self._require_open()
        self._require(self.can_send_link(), "link_not_expected")
        self._require(key == self.link_key(), "terms_changed")
        self.link_session = session_id
        self.link_status = LinkStatus.OPEN
        self.confirmed_readback = None
        self._move(Step.LINK_SENT, "link_sent")

    def link_withdrawn(self, session_id: str) -> None:
        """The link never reached the caller (the message failed); the keypad is offered."""
        self._require_open_link(session_id)
        self.link_status = LinkStatus.WITHDRAWN
        self.link_attempt += 1
        if self.step is Step.LINK_SENT:
            self._move(Step.CAPTURE, "link_withdrawn")

    def link_paid(
        self,
        session_id: str,
        reference: str,
        amount_minor: int,
        currency: str,
        card: CardOnCall | None = None,
    ) -> bool:
        """The caller paid the link (a signed webhook); returns ``False`` for a repeated delivery.

        ``card`` is the card the caller paid with on the processor's page (brand and last four),
        for the receipt. Allowed after the call ended too: a caller may hang up and pay later.
        """
        self._require(self.link_session == session_id, "unknown_link")
        if self.link_status is LinkStatus.PAID and self.payment_reference == reference:
            return False
        self._require_open_link(session_id)
        self._require(not self.paid, "already_paid")
        self._require(
            (amount_minor, currency) == (self.amount_minor, self.currency), "terms_mismatch"
        )
        self.link_status = LinkStatus.PAID
        self.charge_state = ChargeState.SUCCEEDED
        self.payment_reference = reference
        self.card = card
        self._settle_link("charge_succeeded", Step.RECEIPT)
        if self.step is Step.END:
            self.outcome = "paid"
        return True

    def link_expired(self, session_id: str) -> bool:
        """The link expired unpaid; returns ``False`` when it was already settled."""
        self._require(self.link_session == session_id, "unknown_link")
        if self.link_status is not LinkStatus.OPEN:
            return False
        self.link_status = LinkStatus.EXPIRED
        self.link_attempt += 1
        self._settle_link("link_expired", Step.CAPTURE)
        return True

    def _require_open_link(self, session_id: str) -> None:
        self._require(self.link_session == session_id, "unknown_link")
        self._require(self.link_status is LinkStatus.OPEN, "link_not_open")

    def _settle_link(self, cause: str, target: Step) -> None:
        if self.step is Step.LINK_SENT:
            self._move(target, cause)
        else:
            # The call is over: keep its final step, but record when the link settled.
            self.transitions.append(
                Transition(at=datetime.now(UTC), source=self.step, target=self.step, cause=cause)
            )
