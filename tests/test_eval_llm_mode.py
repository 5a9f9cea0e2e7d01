"""Evals with a real LLM: a goal-driven simulated caller and LLM judges, over real HTTP.

The agent, the judges and the simulated caller all talk to one OpenAI-compatible server in a
thread of the test process (:mod:`openai_server`), which answers each request as what it is: the
judges' requests offer ``submit_verdict``, the caller's start with its system prompt, the rest are
the agent's (answered by :func:`openai_server.good_model`). Every byte the server received is
checked for the caller's card data and date of birth.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from livekit.agents.llm import ChatContext
from livekit.plugins import openai
from openai_server import (
    Fault,
    OpenAIServer,
    Policy,
    RecordedRequest,
    Reply,
    ToolCall,
    route_by_kind,
    serve_in_thread,
)

from evals.leak_scan import CardSecrets
from evals.llm_caller import CALLER_INSTRUCTIONS, parse_action, to_turn
from evals.llm_judges import RubricJudge, judge_history, judges_for
from evals.runner import RunConfig, run_suites
from evals.scenario import (
    HangUpTurn,
    JudgeRubric,
    KeysTurn,
    SayTurn,
    Scenario,
    ScenarioError,
    load_scenario,
)

MODEL = "voicepay-test-model"
API_KEY = "sk-voicepay-test"
FACTS = {
    "account": "50223344",
    "dob": "04071990",
    "card_number": "4242424242424242",
    "expiry": "0931",
    "security_code": "739",
}
SCRIPT = [
    {"say": "Hi, I'd like to pay my bill. My account number is 5 0 2 2 3 3 4 4."},
    {"keys": "04071990#"},
    {"say": "The full balance, please."},
    {"keys": "4242424242424242#", "card": "number"},
    {"keys": "0931#", "card": "expiry"},
    {"keys": "739#", "card": "security_code"},
    {"say": "Yes, that's right."},
    {"say": "No thanks, that's all."},
]
CARD_FIELDS: dict[str, Any] = {
    "card_number": "number",
    "expiry": "expiry",
    "security_code": "security_code",
}
PAID = {"outcome": "paid", "paid": {"amount": "259.99", "currency": "USD"}}
GOAL_PAY = {
    "name": "goal-pay",
    "persona": "A busy customer who would rather type than talk.",
    "goal": "Pay the full balance of your account with your Visa card. You want no receipt.",
    "facts": FACTS,
    "caller": SCRIPT,
    "expect": {**PAID, "judges": [{"name": "clear", "rubric": "The agent is clear and polite."}]},
}
FAILING_RUBRIC = "The agent offers to post a paper receipt."
SCRIPTED_PAY = {
    "name": "scripted-pay",
    "caller": SCRIPT,
    "expect": {**PAID, "judges": [{"name": "paper-receipt", "rubric": FAILING_RUBRIC}]},
}
# What must never reach any model: the card, its expiry and code, and the date of birth.
SECRETS = {
    "card number": re.compile(r"(?<!\d)4242[\s./-]?4242[\s./-]?4242[\s./-]?4242(?!\d)"),
    "expiry": re.compile(r"(?<![0-9A-Za-z])09\s?/?\s?31(?![0-9A-Za-z])"),
    "security code": re.compile(r"(?<![0-9A-Za-z])739(?![0-9A-Za-z])"),
    "date of birth": re.compile(r"(?<!\d)04[\s./-]?07[\s./-]?1990(?!\d)"),
}
# The simulated caller's moves, from what the agent just said (first match wins).
CALLER_MOVES: list[tuple[str, dict[str, Any]]] = [
    ("rate this call", {"say": "Four out of five."}),
    ("card number", {"keys": "card_number"}),
    ("expiry", {"keys": "expiry"}),
    ("security code", {"keys": "security_code"}),
    ("date of birth", {"keys": "dob"}),
    ("account number", {"keys": "account"}),
    ("how much", {"say": "The full balance, please."}),
    ("shall i go ahead", {"say": "Yes, go ahead."}),
    ("receipt", {"say": "No thanks, that's all."}),
    ("goodbye", {"hangup": True}),
]


def payment_caller(request: RecordedRequest) -> Reply:
    """A model playing a caller who pays in full: it reads the agent's last lines, acts in JSON."""
    heard = str(request.messages[-1]["content"]).lower()
    action = next((a for phrase, a in CALLER_MOVES if phrase in heard), {"say": "Sorry?"})
    return Reply(text=f"Sure. {json.dumps(action)}")


def judge_with(verdicts: dict[str, str]) -> Policy:
    """A judge model: the verdict for the first rubric of ``verdicts`` in its prompt, else pass."""

    def judge(request: RecordedRequest) -> Reply:
        prompt = str(request.messages[-1]["content"])
        verdict = next((v for rubric, v in verdicts.items() if rubric in prompt), "pass")
        arguments = {"verdict": verdict, "reasoning": f"Graded {verdict} on the transcript."}
        return Reply(tool_calls=(ToolCall("submit_verdict", arguments),))

    return judge


def sent(server: OpenAIServer) -> Iterator[str]:
    """Every request body the server received."""
    for request in server.requests:
        yield request.raw
        yield json.dumps(request.body, ensure_ascii=False)


def leaks(texts: Iterator[str]) -> list[str]:
    return [name for text in texts for name, pattern in SECRETS.items() if pattern.search(text)]


def write_suite(tmp_path: Path, *scenarios: dict[str, Any]) -> Path:
    folder = tmp_path / "suite"
    folder.mkdir()
    for scenario in scenarios:
        (folder / f"{scenario['name']}.yaml").write_text(yaml.safe_dump(scenario))
    return folder


def results(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s["results"][0] for s in report["scenarios"]}


def judge_checks(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["checks"] if c["kind"] == "judge"}


@pytest.fixture
def llm_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.chdir(tmp_path)
    for name in ("VOICEPAY_LLM__PROVIDER", "VOICEPAY_LLM__API_KEY"):
        monkeypatch.delenv(name, raising=False)
    policy = route_by_kind(
        caller_prompt=CALLER_INSTRUCTIONS,
        judge=judge_with({FAILING_RUBRIC: "fail"}),
        caller=payment_caller,
    )
    with serve_in_thread(policy) as server:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("VOICEPAY_LLM__MODEL", MODEL)
        monkeypatch.setenv("VOICEPAY_LLM__BASE_URL", server.base_url)
        yield server


def test_an_llm_run_plays_the_goal_and_is_graded_by_judges(
    llm_env: OpenAIServer, tmp_path: Path
) -> None:
    suite = write_suite(tmp_path, GOAL_PAY, SCRIPTED_PAY)

    report = run_suites(RunConfig(suites=(suite,), out=tmp_path / "out", llm="openai", seed=7))

    by_name = results(report)
    goal = by_name["goal-pay"]
    # The simulated caller keyed every fact by name and paid; nothing leaked anywhere.
    assert goal["passed"], goal["checks"]
    assert (goal["outcome"], goal["auth"], goal["turns"]) == ("paid", "verified", 10)
    assert goal["leaks"] == []
    caller_requests = [
        r for r in llm_env.chat_requests if r.messages[0]["content"].startswith(CALLER_INSTRUCTIONS)
    ]
    assert len(caller_requests) == 10
    keyed = [
        json.loads(m["content"])["keys"]
        for m in caller_requests[-1].messages
        if m["role"] == "assistant" and "keys" in m["content"]
    ]
    assert keyed == ["account", "dob", "card_number", "expiry", "security_code"]
    for request in caller_requests:
        assert request.body["temperature"] == 0.0
        assert isinstance(request.body["seed"], int)
    assert leaks(sent(llm_env)) == []
    # Every trial is graded by its rubric judge and LiveKit's two; a "fail" fails the trial.
    assert {name: c["passed"] for name, c in judge_checks(goal).items()} == {
        "judge clear": True,
        "judge task_completion": True,
        "judge safety": True,
    }
    assert judge_checks(goal)["judge clear"]["detail"] == "pass: Graded pass on the transcript."
    scripted = by_name["scripted-pay"]
    assert scripted["outcome"] == "paid"
    assert not scripted["passed"]
    assert [c["name"] for c in scripted["checks"] if not c["passed"]] == ["judge paper-receipt"]
    assert judge_checks(scripted)["judge paper-receipt"]["detail"].startswith("fail: ")
    # Tokens: the server reports 100 in / 10 out per request, for each of the three models.
    tokens = report["summary"]["tokens"]
    assert tokens["caller_input"] == 100 * len(caller_requests) == goal["caller_input_tokens"]
    assert tokens["caller_output"] == 10 * len(caller_requests)
    judge_requests = [r for r in llm_env.chat_requests if "submit_verdict" in r.tool_names]
    assert len(judge_requests) == 6
    assert (tokens["judge_input"], tokens["judge_output"]) == (600, 60)
    assert tokens["input"] > 0 and tokens["output"] > 0
    total_in = sum(v for k, v in tokens.items() if k.endswith("input"))
    total_out = sum(v for k, v in tokens.items() if k.endswith("output"))
    assert report["summary"]["cost_usd"] == round((total_in * 0.40 + total_out * 1.60) / 1e6, 4)


def test_an_offline_run_of_the_same_scenarios_plays_the_script_without_judges(
    tmp_path: Path,
) -> None:
    suite = write_suite(tmp_path, GOAL_PAY, SCRIPTED_PAY)

    report = run_suites(RunConfig(suites=(suite,), out=tmp_path / "out"))

    for result in results(report).values():
        assert result["passed"], result["checks"]
        assert judge_checks(result) == {}
        assert result["turns"] == len(SCRIPT)
    tokens = report["summary"]["tokens"]
    assert set(tokens.values()) == {0}
    assert report["summary"]["cost_usd"] == 0.0


def _history() -> ChatContext:
    history = ChatContext()
    history.add_message(role="assistant", content="Hello, what's your account number?")
    history.add_message(role="user", content="It's 5 0 2 2 3 3 4 4.")
    return history


async def test_a_judge_that_errors_is_a_failed_check_not_a_crash() -> None:
    scenario = Scenario.model_validate(SCRIPTED_PAY)
    async with OpenAIServer(judge_with({})) as server:
        server.fail(Fault.SERVER_ERROR)
        model = openai.LLM(model=MODEL, base_url=server.base_url, api_key=API_KEY)
        try:
            # The rubric judge gives up after its retry; LiveKit's keep retrying past the limit.
            report = await judge_history(
                model, judges_for(scenario, seed=1), _history(), timeout_s=1.5
            )
        finally:
            await model.aclose()

    assert [(c.name, c.kind, c.passed) for c in report.checks] == [
        ("judge paper-receipt", "judge", False),
        ("judge task_completion", "judge", False),
        ("judge safety", "judge", False),
    ]
    assert report.checks[0].detail == "error: APIConnectionError"
    assert [c.detail for c in report.checks[1:]] == ["error: TimeoutError"] * 2


async def test_a_rubric_judge_sends_its_rubric_and_a_seed_and_masks_its_reasoning() -> None:
    def leaky_judge(request: RecordedRequest) -> Reply:
        arguments = {"verdict": "maybe", "reasoning": "The caller typed 4242424242424242."}
        return Reply(tool_calls=(ToolCall("submit_verdict", arguments),))

    rubric = JudgeRubric(name="clear", rubric="The agent is clear.")
    async with OpenAIServer(leaky_judge) as server:
        model = openai.LLM(model=MODEL, base_url=server.base_url, api_key=API_KEY)
        try:
            report = await judge_history(model, [RubricJudge(rubric, seed=2**40 + 5)], _history())
        finally:
            await model.aclose()

    [check] = report.checks
    assert check.passed  # "maybe" is not a failure
    assert check.detail.startswith("maybe: The caller typed ")
    assert "4242424242424242" not in check.detail
    [request] = server.chat_requests
    assert request.body["seed"] == 5
    assert request.body["temperature"] == 0.0
    assert request.body["tool_choice"] == "required"
    assert "Criteria: The agent is clear." in request.messages[-1]["content"]
    assert "user: It's 5 0 2 2 3 3 4 4." in request.messages[-1]["content"]
    assert (report.input_tokens, report.output_tokens) == (100, 10)


def test_card_facts_are_card_data_for_the_leak_scan() -> None:
    secrets = CardSecrets.from_scenario(Scenario.model_validate(GOAL_PAY))

    assert secrets.numbers == {"4242424242424242"}
    assert secrets.expiries == {"0931"}
    assert secrets.security_codes == {"739"}
    assert secrets.postal_codes == frozenset()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"facts": {"card_number": 4242424242424242}}, "facts.card_number"),
        ({"facts": {"expiry": "09/31"}}, "facts.expiry"),
        ({"facts": {"pin": "1234"}}, "facts.pin"),
        ({"expect": {"judges": [{"name": "safety", "rubric": "Safe."}]}}, "expect"),
        ({"expect": {"judges": [{"name": "a", "rubric": "x"}] * 2}}, "expect"),
    ],
)
def test_bad_facts_and_judge_names_are_rejected_with_the_line(
    change: dict[str, Any], where: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**GOAL_PAY, **change}))

    with pytest.raises(ScenarioError, match=rf"bad\.yaml:\d+: {re.escape(where)}") as error:
        load_scenario(path)
    assert "4242" not in str(error.value)


def test_caller_actions_key_facts_by_name() -> None:
    assert to_turn({"keys": "card_number"}, FACTS) == KeysTurn(
        keys="4242424242424242#", card="number"
    )
    assert to_turn({"keys": "dob"}, FACTS) == KeysTurn(keys="04071990#")
    assert to_turn({"say": " Yes please. "}, FACTS) == SayTurn(say="Yes please.")
    assert to_turn({"hangup": True}, FACTS) == HangUpTurn(hangup=True)
    assert parse_action('Okay: {"keys": "expiry"} done') == {"keys": "expiry"}
    for invalid in (
        {"keys": "4242424242424242"},
        {"keys": "pin"},
        {"say": ""},
        {"hangup": False},
        {"say": "hi", "hangup": True},
    ):
        assert to_turn(invalid, FACTS) is None


@given(st.text())
def test_any_model_reply_is_one_action_or_none_and_keys_only_known_facts(text: str) -> None:
    action = parse_action(text)
    turn = to_turn(action, FACTS) if action is not None else None
    if isinstance(turn, KeysTurn):
        assert turn.keys[:-1] in FACTS.values()
    assert turn is None or isinstance(turn, SayTurn | KeysTurn | HangUpTurn)


@given(st.sampled_from(sorted(FACTS)), st.text(max_size=20), st.text(max_size=20))
def test_a_keys_action_in_any_surrounding_prose_keys_that_fact(
    name: str, before: str, after: str
) -> None:
    text = before.replace("{", "") + json.dumps({"keys": name}) + after.replace("}", "")

    action = parse_action(text)

    assert action is not None
    assert to_turn(action, FACTS) == KeysTurn(keys=FACTS[name] + "#", card=CARD_FIELDS.get(name))
