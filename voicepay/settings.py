"""One validated configuration for every VoicePay process.

Every external service is chosen here and each has an offline default, so a fresh machine runs the
demo and the tests without keys or network. Values come from ``VOICEPAY_*`` environment variables
(nested with ``__``, e.g. ``VOICEPAY_CAPTURE__TIMEOUT_S``) and an optional ``.env`` file.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.speech.config import SpeechSettings
from voice_auth.config import VoiceAuthSettings, voiceprint_key
from voicepay.email_sender import EmailSettings
from voicepay.receipts import ReceiptSettings
from voicepay.sms import SmsSettings

Language = Literal["en", "fr"]

_DEV_PEPPER = "voicepay-dev-pepper-not-for-production"
_DEV_WEBHOOK_SECRET = "whsec_voicepay_dev_not_for_production"


class LLMSettings(BaseModel):
    """Which language model drives the conversation."""

    provider: Literal["auto", "offline", "openai"] = "auto"
    model: str = "gpt-4.1-mini"
    base_url: str | None = None
    api_key: SecretStr | None = None
    attempt_timeout_s: float = Field(8.0, gt=0)


class PaymentSettings(BaseModel):
    """Processor choice and the merchant's payment limits."""

    gateway: Literal["auto", "sandbox", "stripe"] = "auto"
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None
    merchant_name: str = "VoicePay Utilities"
    statement_descriptor: str = "VOICEPAY"
    min_payment_minor: int = Field(100, ge=1)
    max_payment_minor: int = Field(500_000, ge=1)
    network_retries: int = Field(2, ge=0, le=5)
    request_timeout_s: float = Field(20.0, gt=0)


class LinkSettings(BaseModel):
    """Secure payment links (Stripe Checkout) instead of the keypad (``VOICEPAY_LINKS__*``)."""

    # Stripe accepts 30 minutes to 24 hours; the expiry is rounded up to the next minute.
    ttl_s: int = Field(1800, ge=1800, le=86340, description="How long a link can be paid.")
    wait_s: float = Field(
        300.0, ge=0, le=1800, description="How long the bot holds the line; 0 lets the caller go."
    )
    poll_s: float = Field(2.0, gt=0, le=30, description="How often a holding bot checks the link.")
    hold_message_every_s: float = Field(30.0, gt=0)
    webhook_secret: SecretStr = SecretStr(_DEV_WEBHOOK_SECRET)
    webhook_tolerance_s: int = Field(300, ge=1, description="Oldest signature timestamp accepted.")
    success_url: str = "https://example.com/payment-complete"
    sandbox_webhook_url: str | None = Field(
        None, description="Where the offline link page posts its events; unset: in-process."
    )


class CaptureSettings(BaseModel):
    """Keypad card capture options, at parity with Twilio ``<Pay>``."""

    timeout_s: float = Field(5.0, gt=0, description="Inter-digit timeout.")
    max_attempts: int = Field(3, ge=1, le=5)
    accepted_brands: list[str] = ["visa", "mastercard", "amex", "discover"]
    security_code: bool = True
    postal_code: bool = False
    min_postal_code_length: int = Field(5, ge=3, le=10)
    require_matching_inputs: bool = False


StepUpFactor = Literal["knowledge_factor", "sms_code"]


class AuthSettings(BaseModel):
    """Caller authentication and lockout."""

    knowledge_max_attempts: int = Field(3, ge=1, le=10)
    identify_max_attempts: int = Field(3, ge=1, le=10)
    lockout_s: int = Field(900, ge=1)
    pepper: SecretStr = SecretStr(_DEV_PEPPER)
    step_up_factors: list[StepUpFactor] = Field(
        ["knowledge_factor"],
        min_length=1,
        description="Keypad factors asked when the voice cannot be checked (no voiceprint).",
    )
    doubtful_voice_factors: list[StepUpFactor] = Field(
        ["knowledge_factor", "sms_code"],
        min_length=1,
        description="Keypad factors asked when a voiceprint exists but the voice is unconfirmed.",
    )
    one_time_code_ttl_s: int = Field(300, ge=30, le=1800)
    one_time_codes_per_hour: int = Field(3, ge=1, le=10, description="Codes sent per account.")


class EscalationSettings(BaseModel):
    """Thresholds of the escalation triggers (``VOICEPAY_ESCALATION__*``)."""

    sentiment_window: int = Field(3, ge=1, le=10, description="Turns the sustained mean covers.")
    sustained_mean: float = Field(-0.45, ge=-1, le=0)
    sustained_turns: int = Field(2, ge=1, le=10, description="Negative turns the window needs.")
    negative_turn: float = Field(-0.4, ge=-1, le=0, description="A turn this low is negative.")
    strong_turn: float = Field(-0.8, ge=-1, le=0, description="One turn this low may transfer.")
    strong_turn_needs_escalation_words: bool = Field(
        True, description="A strong turn transfers only if it holds escalation words."
    )
    misunderstanding_limit: int = Field(3, ge=1, le=10)
    keypad_transfer_key: str = Field("0", pattern=r"^[0-9*#]$")
    llm_timeout_s: float = Field(2.0, gt=0, description="Per-turn LLM classification limit.")
    llm_classifier: bool = Field(
        True, description="With an LLM configured, also classify each caller turn with it."
    )

    @model_validator(mode="after")
    def _window_holds_the_turns(self) -> EscalationSettings:
        if self.sustained_turns > self.sentiment_window:
            raise ValueError("escalation.sustained_turns exceeds escalation.sentiment_window")
        return self


class TransferSettings(BaseModel):
    """Where calls go when they need a person."""

    queue: str = "payments"
    sip_trunk_id: str | None = Field(None, description="Outbound trunk for a SIP warm transfer.")
    sip_call_to: str | None = Field(None, description="Number or SIP URI of the human agents.")
    human_wait_s: float = Field(120.0, gt=0, description="How long to hold for a person.")
    hold_message_every_s: float = Field(30.0, gt=0)


class MetricsSettings(BaseModel):
    """Prometheus metrics and call records (``VOICEPAY_METRICS__*``)."""

    port: int | None = Field(
        9464, ge=1, le=65535, description="The worker's /metrics port; unset serves none."
    )
    multiproc_dir: str | None = Field(
        None, description="Shared directory summing the metrics of the worker's job processes."
    )
    record_ttl_s: int = Field(
        90 * 24 * 3600, ge=3600, description="How long call records are kept in Redis."
    )


class SurveySettings(BaseModel):
    """The post-call survey (``VOICEPAY_SURVEY__*``)."""

    enabled: bool = True
    wait_s: float = Field(8.0, gt=0, le=30, description="How long the rating key is awaited.")


class RecordingSettings(BaseModel):
    """Call recordings made by the worker (``VOICEPAY_RECORDING__*``, ``docs/voice-mode.md``)."""

    enabled: bool = Field(
        False, description="Record calls: caller (masked, paused during keypad entry) and agent."
    )
    dir: Path = Field(
        Path("var/recordings"), description="Where each call's recording folder is written."
    )


class LanguageSettings(BaseModel):
    """How the caller picks the call's language (``VOICEPAY_LANGUAGE__*``)."""

    keypad_key: str = Field(
        "9",
        pattern=r"^[1-9]$",
        description="Key (then hash) that switches to the other language before identification.",
    )
    detect: bool = Field(True, description="Follow the language of the caller's first words.")


class PlanSettings(BaseModel):
    """Payment plans and promises to pay (``VOICEPAY_PLANS__*``)."""

    min_instalments: int = Field(2, ge=2, description="Fewest payments a plan may have.")
    max_instalments: int = Field(6, ge=2, le=24, description="Most payments a plan may have.")
    min_instalment_minor: int = Field(1000, ge=1, description="Smallest payment of a plan.")
    retry_after_days: int = Field(3, ge=1, description="Days between tries of a declined payment.")
    max_attempts: int = Field(3, ge=1, le=10, description="Tries of one payment before giving up.")
    promise_max_days: int = Field(30, ge=1, description="How far ahead a promise to pay may be.")

    @model_validator(mode="after")
    def _min_within_max(self) -> PlanSettings:
        if self.min_instalments > self.max_instalments:
            raise ValueError("plans.min_instalments exceeds plans.max_instalments")
        return self


class Settings(BaseSettings):
    """VoicePay configuration, validated at start-up and passed down explicitly."""

    model_config = SettingsConfigDict(
        env_prefix="VOICEPAY_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    environment: Literal["dev", "test", "prod"] = "dev"
    redis_url: str | None = Field(
        None, description="Redis URL; unset starts a private local redis-server for the process."
    )
    call_ttl_s: int = Field(7 * 24 * 3600, ge=60)
    default_language: Language = "en"
    agent_name: str = "voicepay-inbound"
    llm: LLMSettings = LLMSettings()
    payments: PaymentSettings = PaymentSettings()
    capture: CaptureSettings = CaptureSettings()
    links: LinkSettings = LinkSettings()
    auth: AuthSettings = AuthSettings()
    escalation: EscalationSettings = EscalationSettings()
    voice_auth: VoiceAuthSettings = Field(default_factory=VoiceAuthSettings)
    speech: SpeechSettings = SpeechSettings()
    transfer: TransferSettings = TransferSettings()
    metrics: MetricsSettings = MetricsSettings()
    sms: SmsSettings = SmsSettings()
    email: EmailSettings = EmailSettings()
    receipts: ReceiptSettings = ReceiptSettings()
    language: LanguageSettings = LanguageSettings()
    survey: SurveySettings = SurveySettings()
    recording: RecordingSettings = RecordingSettings()
    plans: PlanSettings = PlanSettings()
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "VOICEPAY_OPENAI_API_KEY")
    )
    deepgram_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DEEPGRAM_API_KEY", "VOICEPAY_DEEPGRAM_API_KEY")
    )
    stripe_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("STRIPE_API_KEY", "VOICEPAY_STRIPE_API_KEY")
    )

    @model_validator(mode="after")
    def _refuse_placeholders_in_prod(self) -> Settings:
        if self.environment == "prod":
            if self.auth.pepper.get_secret_value() == _DEV_PEPPER:
                raise ValueError("VOICEPAY_AUTH__PEPPER must be set to a secret value in prod")
            if self.redis_url is None:
                raise ValueError("VOICEPAY_REDIS_URL must be set in prod")
            voiceprint_key(self.voice_auth, self.environment)
        if self.language.keypad_key == self.escalation.keypad_transfer_key:
            raise ValueError("language.keypad_key is already escalation.keypad_transfer_key")
        if self.payments.min_payment_minor > self.payments.max_payment_minor:
            raise ValueError("payments.min_payment_minor exceeds payments.max_payment_minor")
        return self

    @cached_property
    def llm_provider(self) -> Literal["offline", "openai"]:
        """The LLM actually used: OpenAI when a key is configured, else the offline policy."""
        if self.llm.provider != "auto":
            return self.llm.provider
        return "openai" if self.openai_key is not None else "offline"

    @cached_property
    def gateway(self) -> Literal["sandbox", "stripe"]:
        """The payment gateway actually used: Stripe when a key is configured, else the sandbox."""
        if self.payments.gateway != "auto":
            return self.payments.gateway
        return "stripe" if self.stripe_key is not None else "sandbox"

    @property
    def webhook_secret_is_placeholder(self) -> bool:
        """Whether the payment-link webhook secret is still the development placeholder."""
        return self.links.webhook_secret.get_secret_value() == _DEV_WEBHOOK_SECRET

    @property
    def openai_key(self) -> SecretStr | None:
        """The OpenAI key from ``VOICEPAY_LLM__API_KEY`` or ``OPENAI_API_KEY``."""
        return self.llm.api_key or self.openai_api_key

    @property
    def stripe_key(self) -> SecretStr | None:
        """The Stripe key from ``VOICEPAY_PAYMENTS__STRIPE_API_KEY`` or ``STRIPE_API_KEY``."""
        return self.payments.stripe_api_key or self.stripe_api_key

    @property
    def deepgram_key(self) -> SecretStr | None:
        """The Deepgram key from ``DEEPGRAM_API_KEY`` (or ``VOICEPAY_DEEPGRAM_API_KEY``)."""
        return self.deepgram_api_key
