from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voice_auth.config import DEV_KEY, VoiceAuthConfigError, VoiceAuthSettings, voiceprint_key
from voice_auth.decision import DecisionThresholds, Outcome, calibrated_thresholds, decide

scores = st.floats(min_value=-10, max_value=10, allow_nan=False)


@st.composite
def thresholds(draw: st.DrawFn) -> DecisionThresholds:
    low, high = sorted((draw(scores), draw(scores)))
    return DecisionThresholds(accept=high, reject=low)


@given(score=scores, limits=thresholds(), high_risk=st.booleans())
def test_outcome_follows_the_two_thresholds(
    score: float, limits: DecisionThresholds, high_risk: bool
) -> None:
    outcome = decide(score, limits, high_risk=high_risk).outcome
    if score < limits.reject:
        assert outcome is Outcome.REJECT
    elif score < limits.accept or high_risk:
        assert outcome is Outcome.STEP_UP
    else:
        assert outcome is Outcome.ACCEPT


@given(score=st.one_of(st.none(), scores), limits=thresholds())
def test_unusable_audio_is_stepped_up_never_accepted_nor_rejected(
    score: float | None, limits: DecisionThresholds
) -> None:
    decision = decide(score, limits, unusable_reason="too little speech")
    assert decision.outcome is Outcome.STEP_UP
    assert decision.reason == "unusable audio: too little speech"


@given(low=scores, high=scores, limits=thresholds())
def test_a_higher_score_never_gets_a_worse_outcome(
    low: float, high: float, limits: DecisionThresholds
) -> None:
    rank = {Outcome.REJECT: 0, Outcome.STEP_UP: 1, Outcome.ACCEPT: 2}
    low, high = sorted((low, high))
    assert rank[decide(low, limits).outcome] <= rank[decide(high, limits).outcome]


def test_inverted_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="must not exceed"):
        DecisionThresholds(accept=1.0, reject=2.0)


def test_calibrated_thresholds_exist_for_ge2e_only() -> None:
    assert calibrated_thresholds("ge2e", "s-norm") == DecisionThresholds(accept=3.0, reject=2.0)
    assert calibrated_thresholds("ge2e", "cosine") == DecisionThresholds(accept=0.84, reject=0.74)
    assert calibrated_thresholds("speechbrain", "s-norm") is None


def test_settings_pick_calibrated_thresholds_for_the_scoring_in_use() -> None:
    assert VoiceAuthSettings().thresholds().accept == 0.84
    with_cohort = VoiceAuthSettings(cohort_path="cohort.npz")
    assert with_cohort.scoring == "s-norm"
    assert with_cohort.thresholds().accept == 3.0


def test_configured_thresholds_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEPAY_VOICE_AUTH__ACCEPT_THRESHOLD", "3.5")
    monkeypatch.setenv("VOICEPAY_VOICE_AUTH__REJECT_THRESHOLD", "1.5")
    assert VoiceAuthSettings().thresholds() == DecisionThresholds(accept=3.5, reject=1.5)


@pytest.mark.parametrize(
    ("accept", "reject", "message"),
    [(3.0, None, "both"), (1.0, 2.0, "must not exceed")],
)
def test_half_or_inverted_configured_thresholds_are_refused(
    accept: float, reject: float | None, message: str
) -> None:
    with pytest.raises(VoiceAuthConfigError, match=message):
        VoiceAuthSettings(accept_threshold=accept, reject_threshold=reject).thresholds()


def test_speechbrain_needs_explicit_thresholds() -> None:
    with pytest.raises(VoiceAuthConfigError, match="no calibrated thresholds for speechbrain"):
        VoiceAuthSettings(encoder="speechbrain").thresholds()


def test_dev_gets_the_placeholder_key_but_test_and_prod_refuse_it() -> None:
    assert voiceprint_key(VoiceAuthSettings(), "dev") == base64.b64decode(DEV_KEY)
    for environment in ("test", "prod"):
        with pytest.raises(VoiceAuthConfigError, match="must be set to a secret"):
            voiceprint_key(VoiceAuthSettings(), environment)
        with pytest.raises(VoiceAuthConfigError, match="must be set to a secret"):
            voiceprint_key(VoiceAuthSettings(key=DEV_KEY), environment)


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = bytes(range(32))
    monkeypatch.setenv("VOICEPAY_VOICE_AUTH__KEY", base64.b64encode(secret).decode())
    assert voiceprint_key(VoiceAuthSettings(), "prod") == secret


@pytest.mark.parametrize(
    ("key", "message"),
    [("not base64!", "not valid base64"), (base64.b64encode(b"short").decode(), "32 bytes, not 5")],
)
def test_malformed_keys_are_refused(key: str, message: str) -> None:
    with pytest.raises(VoiceAuthConfigError, match=message):
        voiceprint_key(VoiceAuthSettings(key=key), "prod")
