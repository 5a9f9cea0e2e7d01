"""The agent console in a real headless Chromium (Debian's), against uvicorn and a real Redis."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import uvicorn
from argon2 import PasswordHasher
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from payment_tools.redaction import contains_luhn_run
from voicepay.console import ConsoleConfig, create_app
from voicepay.console._redis import stream_entries
from voicepay.console.transfers import handoff_stream
from voicepay.console.users import Role, UserStore
from voicepay.handoff_brief import (
    Decline,
    HandoffBrief,
    MaskedCard,
    TranscriptLine,
    UnsafeBrief,
)
from voicepay.redis_client import connect

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
PAN = "4242 4242 4242 4242"
PAN_DIGITS = PAN.replace(" ", "")
FAST = PasswordHasher(time_cost=1, memory_cost=8192)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def base_url(redis_server: str) -> Iterator[str]:
    config = ConsoleConfig(
        secure_cookies=False, sse_block_ms=200, password_time_cost=1, password_memory_kib=8192
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config, redis_server, b"b" * 32),
            host="127.0.0.1",
            port=port,
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def db(redis_server: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    client.flushdb()

    async def users() -> None:
        async_client = connect(redis_server)
        try:
            store = UserStore(async_client, FAST)
            await store.create("alice", PASSWORD, Role.AGENT, ["payments"])
            await store.create("bob", PASSWORD, Role.AGENT, ["payments"])
            await store.create("sam", PASSWORD, Role.SUPERVISOR, [])
        finally:
            await async_client.aclose()

    # Playwright's sync API keeps an event loop running in this thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, users()).result()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    yield ctx
    ctx.close()


def log_in(page: Page, base_url: str, username: str, path: str = "/queue") -> None:
    page.goto(base_url + path)
    expect(page).to_have_url(f"{base_url}/login?next={path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base_url + path)


def the_brief() -> HandoffBrief:
    return HandoffBrief(
        holder="Ada Lovelace",
        account="40112233",
        verified=True,
        verification="date of birth, first attempt",
        goal="pay the balance of €42.50",
        what_happened=["identified the account", "verified", "card declined twice"],
        amount_minor=4250,
        currency="EUR",
        card=MaskedCard(brand="visa", last4="4242"),
        declines=[
            Decline(reason="insufficient funds", card=MaskedCard(brand="visa", last4="4242"))
        ],
        warnings=["The caller sounded upset after the second decline."],
        sentiment=[0.4, 0.1, -0.3, -0.7, -0.5],
        reason="repeated_declines",
        trigger="the card was declined twice",
        next_step="Offer to take another card or set up a payment plan.",
        transcript=[
            TranscriptLine(speaker="agent", text="How would you like to pay?"),
            TranscriptLine(speaker="caller", text="my card is [card data removed]"),
            TranscriptLine(speaker="agent", text="Please use the keypad instead."),
            TranscriptLine(speaker="caller", text="it was declined again, I want a person"),
        ],
    )


def queue_handoff(db: redis.Redis, brief_json: str, ago_s: int = 5) -> str:
    entry_id = db.xadd(
        handoff_stream("payments"),
        {
            "call_id": "call_7f3a",
            "reason": "repeated_declines",
            "account": "40112233",
            "verified": "yes",
            "summary": "Account 40112233; verified by dob; card visa ending 4242 declined twice.",
            "created_at": (datetime.now(UTC) - timedelta(seconds=ago_s)).isoformat(),
            "brief": brief_json,
        },
    )
    return str(entry_id)


def audit(db: redis.Redis) -> list[tuple[str, dict[str, str]]]:
    return stream_entries(db.xrange("voicepay:audit"))


def assert_no_card_data(page: Page) -> None:
    for text in (page.content(), page.inner_text("body")):
        assert PAN_DIGITS not in text.replace(" ", "")
        assert not contains_luhn_run(text)


def test_agent_sees_a_transfer_arrive_accepts_it_and_rates_it(
    base_url: str, db: redis.Redis, context: BrowserContext, browser: Browser, tmp_path: Path
) -> None:
    page = context.new_page()
    log_in(page, base_url, "alice")
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.__notReloaded = true")
    colleague = browser.new_context().new_page()
    log_in(colleague, base_url, "bob")
    expect(colleague.locator("#live")).to_have_text("live")

    queue_handoff(db, the_brief().to_json())
    expect(colleague.locator("tr.transfer")).to_have_count(1, timeout=10_000)
    row = page.locator("tr.transfer")
    expect(row).to_have_count(1, timeout=10_000)
    expect(row).to_contain_text("Card declined repeatedly")
    expect(page.locator("#waiting-count")).to_have_text("1")
    expect(page.locator("#queue-empty")).to_be_hidden()
    assert page.evaluate("window.__notReloaded") is True
    first_wait = row.locator("td.wait").inner_text()
    # The wait ticks every second; a page in the background may see its timers throttled.
    expect(row.locator("td.wait")).not_to_have_text(first_wait, timeout=5_000)
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)
    assert_no_card_data(page)

    row.locator("a.open").click()
    expect(page.locator("h1")).to_have_text("Card declined repeatedly")
    body = page.locator("main")
    for text in (
        "Ada Lovelace",
        "date of birth, first attempt",
        "visa •••• 4242",
        "€42.50",
        "insufficient funds",
        "Offer to take another card",
        "my card is [card data removed]",
        "the card was declined twice",
    ):
        expect(body).to_contain_text(text)
    expect(page.locator("svg.chart polyline")).to_have_count(1)
    expect(page.locator("svg.chart circle")).to_have_count(5)
    assert_no_card_data(page)

    page.click("#accept")
    expect(page.locator(".notice")).to_contain_text("You have the call")
    expect(page.locator("#accepted-by")).to_contain_text("alice")
    expect(colleague.locator("tr.transfer")).to_have_count(0, timeout=10_000)
    expect(colleague.locator("#waiting-count")).to_have_text("0")
    colleague.context.close()

    page.select_option("#disposition select[name=outcome]", "paid")
    page.fill("#disposition textarea[name=note]", f"caller read {PAN} aloud")
    page.click("#disposition button[type=submit]")
    expect(page.locator(".error")).to_contain_text("card data")
    assert_no_card_data(page)
    page.fill("#disposition textarea[name=note]", "Paid with another card.")
    page.click("#disposition button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("Outcome recorded")

    page.check("#feedback input[name=right_call][value=yes]")
    page.check("#feedback input[name=score][value='4']")
    page.check("#feedback input[name=missing][value=mood]")
    page.fill("#feedback textarea[name=comment]", "Good brief; say how upset the caller was.")
    page.click("#feedback button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("Thank you")
    page.screenshot(path=str(tmp_path / "transfer.png"), full_page=True)
    assert_no_card_data(page)

    (feedback,) = [f for _, f in stream_entries(db.xrange("voicepay:handoff-feedback"))]
    assert (feedback["agent"], feedback["right_call"], feedback["score"]) == ("alice", "yes", "4")
    assert feedback["missing"] == "mood" and "upset" in feedback["comment"]

    steps = [(r["actor"], r["action"], r["outcome"]) for _, r in audit(db)]
    expected = [
        ("-", "view.queue", "no_session"),
        ("-", "view.login", "ok"),
        ("alice", "login", "ok"),
        ("alice", "view.queue", "ok"),
        ("alice", "view.events", "ok"),
        ("alice", "view.transfer", "ok"),
        ("alice", "transfer.accept", "ok"),
        ("alice", "transfer.disposition", "refused"),
        ("alice", "transfer.disposition", "ok"),
        ("alice", "transfer.feedback", "ok"),
    ]
    remaining = iter(steps)
    assert all(step in remaining for step in expected), steps
    assert PAN_DIGITS not in str(db.xrange("voicepay:audit")).replace(" ", "")

    supervisor = browser.new_context().new_page()
    log_in(supervisor, base_url, "sam", "/supervisor/audit")
    audit_table = supervisor.locator("table.audit")
    for action in ("transfer.accept", "transfer.disposition", "transfer.feedback", "login"):
        expect(audit_table).to_contain_text(action)
    supervisor.goto(base_url + "/supervisor")
    expect(supervisor.locator(".kpis")).to_contain_text("100%")
    expect(supervisor.locator("main")).to_contain_text("Card declined repeatedly")
    supervisor.screenshot(path=str(tmp_path / "supervisor.png"), full_page=True)
    assert_no_card_data(supervisor)
    supervisor.context.close()


def test_unauthenticated_and_cross_role_requests_are_refused(
    base_url: str, db: redis.Redis, context: BrowserContext
) -> None:
    entry_id = queue_handoff(db, the_brief().to_json())
    millis, seq = entry_id.split("-")
    page = context.new_page()
    for path in ("/queue", "/supervisor", "/supervisor/audit"):
        page.goto(base_url + path)
        expect(page).to_have_url(f"{base_url}/login?next={path}")
    accept = page.request.post(f"{base_url}/transfers/payments/x-0/accept", max_redirects=0)
    assert accept.status == 403

    log_in(page, base_url, "alice")
    page.locator("a.open").click()
    action = page.locator("form[action$='/accept']").get_attribute("action")
    assert action is not None and millis not in action and seq in action
    forged = page.request.post(base_url + action, form={"csrf_token": "forged"})
    assert forged.status == 403
    assert page.request.post(base_url + action, form={}).status == 403
    page.goto(base_url + "/supervisor")
    expect(page.locator(".error")).to_have_text("Your role cannot see this page.")
    page.reload()
    expect(page.locator("#accept")).to_have_count(0)
    assert db.hgetall(f"voicepay:console:transfer:payments:{action.split('/')[3]}") == {}
    outcomes = [(r["action"], r["outcome"]) for _, r in audit(db)]
    assert ("csrf", "denied") in outcomes and ("view.supervisor", "denied") in outcomes


def test_a_brief_with_card_digits_is_refused_and_never_shown(
    base_url: str, db: redis.Redis, context: BrowserContext, tmp_path: Path
) -> None:
    leaked = the_brief().model_copy(
        update={"transcript": [TranscriptLine(speaker="caller", text=f"it's {PAN}")]}
    )
    with pytest.raises(UnsafeBrief):
        leaked.to_json()
    queue_handoff(db, leaked.model_dump_json())  # a writer that skipped the guard
    page = context.new_page()
    log_in(page, base_url, "alice")
    page.locator("a.open").click()
    expect(page.locator("main")).to_contain_text("brief was withheld")
    expect(page.locator("main")).to_contain_text("card visa ending 4242 declined twice")
    page.screenshot(path=str(tmp_path / "withheld.png"), full_page=True)
    assert_no_card_data(page)
