"""The HTML report: a real eval run rendered, opened in headless Chromium and looked at."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from evals.report_files import write_report
from evals.report_html import render_html
from evals.runner import RunConfig, build_report, run_suites
from evals.scenario import demo_scenarios
from evals.trial import CheckResult, TrialResult
from payment_tools.redaction import find_luhn_runs

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHARTS = ("Outcomes", "pass^k by k", "Per-turn latency histogram", "Transfer confusion matrix")
PAN = "4242 4242 4242 4242"


def _no_card_digits(text: str) -> None:
    assert find_luhn_runs(text) == []
    assert re.search(r"\d{12,}", text) is None
    assert "4242 4242" not in text


# --- A real run, rendered and opened in Chromium ---------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two demo scenarios with expectations (one transfer, one paid) and one broken file."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    suite = tmp_path_factory.mktemp("suite")
    demo = demo_scenarios()
    expectations = {
        "asks-for-human": "expect: {outcome: transferred, transfer_reason: caller_request}\n",
        "speaks-card-number": "expect: {outcome: paid}\n",
    }
    for name, expect_block in expectations.items():
        (suite / f"{name}.yaml").write_text(demo[name].read_text("utf-8") + expect_block, "utf-8")
    (suite / "broken.yaml").write_text("name: broken\ncaller: []\n", "utf-8")
    out = tmp_path_factory.mktemp("run")
    report = run_suites(RunConfig(suites=(suite,), out=out, trials=2, jobs=1))
    write_report(report, out)
    return out


@pytest.fixture(scope="module")
def browser(run_dir: Path) -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop running: the run, which starts its own, goes first.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, run_dir: Path) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((run_dir / "report.html").as_uri())
    yield page
    page.close()
    assert [url for url in requests if not url.startswith("file://")] == []


@pytest.mark.slow
def test_the_four_charts_are_visible_with_their_names(page: Page) -> None:
    for name in CHARTS:
        chart = page.get_by_role("img", name=name, exact=True)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100


@pytest.mark.slow
def test_the_confusion_matrix_counts_the_expected_transfers(page: Page) -> None:
    matrix = page.get_by_role("img", name="Transfer confusion matrix", exact=True)
    description = matrix.locator("desc").text_content() or ""
    assert "expected caller_request, actual caller_request: 2" in description
    assert "expected none, actual none: 2" in description
    assert "expected caller_request, actual none: 0" in description


@pytest.mark.slow
def test_summary_and_scenarios_show_the_broken_file_as_an_error(page: Page) -> None:
    expect(page).to_have_title("VoicePay eval report · 4/6 passed")
    errors = page.locator(".tile", has_text="errors")
    expect(errors).to_have_class(re.compile(r"\bbad\b"))
    expect(errors.locator(".tile-value")).to_have_text("2")
    expect(page.locator("table.data tbody tr", has_text="broken")).to_contain_text("trial error")
    broken = page.locator("details#trial-broken-1")
    broken.locator("summary").click()
    expect(broken.locator("pre.error")).to_contain_text("broken.yaml")
    expect(broken.locator(".missing")).to_contain_text("No transcript")


@pytest.mark.slow
def test_a_transcript_expands_with_caller_agent_and_masked_keypad_lines(page: Page) -> None:
    trial = page.locator("details#trial-asks-for-human-1")
    first_line = trial.locator("ol.transcript li").first
    expect(first_line).to_be_hidden()
    trial.locator("summary").click()
    expect(trial).to_have_attribute("open", "")
    expect(first_line).to_be_visible()
    expect(first_line).to_have_class(re.compile(r"\bagent\b"))
    expect(trial.locator("li.caller").first).to_be_visible()
    keypad = trial.locator("li.keypad")
    expect(keypad).to_have_count(1)
    expect(keypad).to_contain_text("•••••#")


@pytest.mark.slow
def test_no_card_digits_anywhere_in_the_page(page: Page) -> None:
    for summary in page.locator("details.trial > summary").all():
        summary.click()
    text = page.locator("body").inner_text()
    assert "[card data removed]" in text
    assert "••••••••••••••••#" in text
    _no_card_digits(text)


@pytest.mark.slow
def test_full_page_screenshot_is_a_real_image(page: Page, tmp_path: Path) -> None:
    page.locator("details#trial-speaks-card-number-1 > summary").click()
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800 and height >= 2000
    assert len(data) > 20_000


# --- Rendering edge cases, without a browser ---------------------------------------------------


def _trial(artefacts: Path | None, **fields: object) -> TrialResult:
    base: dict[str, object] = {
        "scenario": "one",
        "file": "one.yaml",
        "trial": 1,
        "status": "ok",
        "passed": True,
        "task_success": True,
        "outcome": "paid",
        "artefacts": str(artefacts) if artefacts else "",
    }
    return TrialResult.model_validate(base | fields)


def _render(results: list[TrialResult], out: Path) -> str:
    report = build_report(RunConfig(suites=(Path("suite"),), out=out), results, 1.0)
    return render_html(report, out)


def test_a_card_number_that_reached_a_transcript_is_masked_on_the_page(tmp_path: Path) -> None:
    folder = tmp_path / "trial"
    folder.mkdir()
    (folder / "transcript.jsonl").write_text(
        '{"at_ms": 5, "speaker": "caller", "text": "my card is ' + PAN + '"}\n'
        '{"at_ms": 9, "speaker": "agent", "text": "<b>Thanks</b> & bye"}\n',
        "utf-8",
    )
    failing = CheckResult(name="no card data leaked", kind="containment", passed=False,
                          detail=f"found {PAN}")  # fmt: skip
    html = _render([_trial(folder, passed=False, checks=[failing], leaks=["pan@t"])], tmp_path)
    _no_card_digits(html)
    assert "my card is [redacted]" in html
    assert "&lt;b&gt;Thanks&lt;/b&gt; &amp; bye" in html
    assert "<b>Thanks" not in html
    assert "Card data leaked: pan@t" in html


def test_one_trial_without_transfers_still_draws_every_chart(tmp_path: Path) -> None:
    html = _render([_trial(None)], tmp_path)
    for name in CHARTS:
        assert f'role="img" aria-label="{name}"' in html
    assert "No trial had an expected outcome to compare against." in html
    assert "No transcript: transcript.jsonl not found" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_an_errored_trial_shows_its_masked_error(tmp_path: Path) -> None:
    crashed = _trial(None, status="error", passed=False, task_success=False, outcome=None,
                     error=f"ValueError: bad card {PAN}")  # fmt: skip
    html = _render([crashed], tmp_path)
    assert "ValueError: bad card [redacted]" in html
    assert "ERROR" in html
    _no_card_digits(html)
