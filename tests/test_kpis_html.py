"""``voicepay kpis --html`` after real demo calls, opened in headless Chromium and looked at."""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright
from typer.testing import CliRunner

from agent.human_desk import SimulatedDesk
from agent.runtime import open_services
from agent.text_call import TextCall
from evals.scenario import demo_scenarios, load_scenario
from evals.simulated_call import play, run_scenario
from payment_tools.gateway import SandboxGateway
from payment_tools.redaction import find_luhn_runs
from voicepay.accounts import AccountRepository
from voicepay.cli._app import app
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.redis_client import connect
from voicepay.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
FUNNEL_BLUE = (0x3B, 0x6F, 0xB6)
PAID_GREEN = (0x2E, 0x85, 0x40)
CALLS = ("happy-path", "decline-then-retry", "asks-for-human")


def rater(name: str) -> Callable[[TextCall], Awaitable[list[float]]]:
    """Plays the scenario, then stays on the line until the goodbye, rating the call 4 if asked."""

    async def play_and_rate(call: TextCall) -> list[float]:
        turns = await play(call, load_scenario(demo_scenarios()[name]))
        for _ in range(300):
            if call.over:
                break
            if call.call.keypad.waiting_for_key:
                await call.press("4")
            await call.wait(0.01)
        return turns

    return play_and_rate


async def _demo_calls(url: str) -> None:
    settings = Settings()
    redis = connect(url)
    try:
        await redis.flushdb()
        await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
        with tempfile.TemporaryDirectory() as outbox:
            async with open_services(
                settings,
                redis,
                outbox_dir=Path(outbox),
                gateway=SandboxGateway(),
                humans=SimulatedDesk(after_s=0.01),
            ) as services:
                for name in CALLS:
                    scenario = load_scenario(demo_scenarios()[name])
                    await run_scenario(services, scenario, player=rater(name))
    finally:
        await redis.aclose()


@pytest.fixture(scope="module")
def kpi_page(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    asyncio.run(_demo_calls(redis_server))
    page = tmp_path_factory.mktemp("kpis") / "kpis.html"
    result = CliRunner().invoke(
        app, ["kpis", "--since", "1h", "--html", str(page), "--redis-url", redis_server]
    )
    assert result.exit_code == 0, result.output
    return page


@pytest.fixture(scope="module")
def browser(kpi_page: Path) -> Iterator[Browser]:
    # The sync API runs its own event loop: the demo calls (which need one) have already run.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, kpi_page: Path) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(kpi_page.as_uri())
    yield page
    page.close()
    assert [url for url in requests if not url.startswith("file://")] == [], "not self-contained"


def _rgb(image: Image.Image) -> npt.NDArray[np.int16]:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def _pixels_near(image: Image.Image, colour: tuple[int, int, int]) -> int:
    close = np.abs(_rgb(image) - np.array(colour, dtype=np.int16)) <= 12
    return int(close.all(axis=-1).sum())


def test_the_funnel_renders_with_a_visible_bar_per_stage(page: Page) -> None:
    funnel = page.get_by_role("img", name="Conversion funnel")
    assert funnel.is_visible()
    bars = funnel.locator("rect")
    assert bars.count() == 5
    heights = [bars.nth(i).bounding_box() for i in range(5)]
    assert all(box is not None and box["height"] > 1 and box["width"] > 10 for box in heights)
    labels = funnel.locator("text.label").all_text_contents()
    assert labels == ["identified", "verified", "amount agreed", "captured", "paid"]
    values = [int(v) for v in funnel.locator("text.value").all_text_contents()]
    assert values == sorted(values, reverse=True) and values[0] == 3 and values[-1] == 2

    shot = Image.open(io.BytesIO(funnel.screenshot()))
    assert shot.width > 300 and shot.height > 150
    assert len(np.unique(_rgb(shot).reshape(-1, 3), axis=0)) > 8, "the chart is a blank image"
    assert _pixels_near(shot, FUNNEL_BLUE) > 2000, "the stage bars are not drawn"
    assert _pixels_near(shot, PAID_GREEN) > 500, "the paid bar is not drawn"


def test_the_page_shows_the_headline_kpis_and_no_card_digits(page: Page) -> None:
    text = page.locator("body").inner_text()
    for name in ("Containment", "True containment", "Payment conversion", "CSAT"):
        assert name in text
    assert "from 2 answers" in text, "the two paid callers' survey ratings"
    assert "caller_request" in page.get_by_role("img", name="Transfers by reason").inner_html()
    assert find_luhn_runs(page.content()) == []
