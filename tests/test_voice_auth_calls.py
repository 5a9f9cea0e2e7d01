"""Voice authentication in complete calls, with real recordings: genuine, impostor, replay."""

from __future__ import annotations

from pathlib import Path

from shared_speech import needs_shared_data

from evals.runner import RunConfig, run_suites
from evals.scenario import DEMO_DIR

SUITE = DEMO_DIR.parent / "voice-auth"
PAYMENT_TOOLS = {"get_balance", "set_amount", "capture_card", "confirm_and_charge"}


@needs_shared_data
def test_only_the_enrolled_voice_reaches_a_payment(tmp_path: Path) -> None:
    report = run_suites(RunConfig(suites=(SUITE,), out=tmp_path))
    results = {s["name"]: s["results"][0] for s in report["scenarios"]}
    assert report["summary"]["leaks"] == 0
    assert all(r["passed"] for r in results.values()), {
        name: [c for c in r["checks"] if not c["passed"]] for name, r in results.items()
    }
    genuine = results["voice-genuine-caller"]
    assert genuine["outcome"] == "paid" and "verify_identity" in genuine["tools"]
    for attack in ("voice-impostor", "voice-replay-attack", "voice-doubtful-wrong-sms-code"):
        assert results[attack]["auth"] == "locked"
        assert not PAYMENT_TOOLS & set(results[attack]["tools"]), attack
    assert results["voice-no-voiceprint"]["outcome"] == "paid"
    assert results["voice-doubtful-sms-code"]["outcome"] == "paid"
