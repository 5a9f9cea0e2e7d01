from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from voicepay import logging_setup
from voicepay.logging_setup import (
    JsonFormatter,
    PiiFilter,
    call_id_var,
    configure_logging,
    install_pii_filter,
)

PAN = "4242424242424242"


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


def _leaks_pan(text: str) -> bool:
    return "424242424242" in re.sub(r"[\s-]", "", text)


@pytest.fixture(autouse=True)
def isolated_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo every global change install_pii_filter and configure_logging make."""
    monkeypatch.setattr(logging.Logger, "addHandler", logging.Logger.addHandler)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    filters = {h: list(h.filters) for h in [*handlers, logging.lastResort] if h is not None}
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for handler, saved in filters.items():
        handler.filters[:] = saved
    logging_setup._configured_handlers.clear()


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, ListHandler]]:
    logger = logging.getLogger("voicepay.test.logging")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = ListHandler()
    logger.addHandler(handler)
    yield logger, handler
    logger.removeHandler(handler)


def test_pii_extras_are_removed(captured: tuple[logging.Logger, ListHandler]) -> None:
    logger, handler = captured
    install_pii_filter()
    extra = {
        "lk.pii.dtmf_inputs": "4 2 4 2",
        "lk.pii.user_transcript": "my date of birth is 15 03 1984",
        "tool": {"name": "pay", "pii_args": {"digits": "1234"}},
        "room": "call-7",
    }
    logger.debug("dtmf received", extra=extra)
    record = handler.records[0]
    assert not hasattr(record, "lk.pii.dtmf_inputs")
    assert not hasattr(record, "lk.pii.user_transcript")
    assert record.__dict__["tool"] == {"name": "pay"}
    assert record.__dict__["room"] == "call-7"
    assert record.getMessage() == "dtmf received"


def test_card_numbers_are_masked_in_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    json_path = tmp_path / "logs" / "voicepay.jsonl"
    configure_logging(level="INFO", json_path=json_path, console=True)
    logger = logging.getLogger("voicepay.test.outputs")
    logger.info("card 4242 4242 4242 4242")
    logger.info("charging %s for %s", "4242-4242-4242-4242", "Ada")
    logger.info("pan as int %d", int(PAN))
    logger.info("with extra", extra={"note": f"typed {PAN}", "items": [PAN, 3]})
    try:
        raise ValueError(f"rejected {PAN}")
    except ValueError:
        logger.exception("payment failed")
    logging.getLogger().handlers[-1].flush()

    console = capsys.readouterr().err
    lines = json_path.read_text(encoding="utf-8").splitlines()
    assert not _leaks_pan(console) and not _leaks_pan("\n".join(lines))
    assert len(lines) == 5  # nothing was dropped
    assert [json.loads(line)["message"].split()[0] for line in lines] == [
        "card", "charging", "pan", "with", "payment",
    ]  # fmt: skip
    assert "for Ada" in json.loads(lines[1])["message"]
    assert "ValueError" in json.loads(lines[4])["exc_info"] and "ValueError" in console
    for word in ("card", "charging", "pan as int", "with extra", "payment failed"):
        assert word in console


def test_handler_added_after_install_also_filters() -> None:
    install_pii_filter()
    install_pii_filter()
    logger = logging.getLogger("voicepay.test.late")
    logger.propagate = False
    handler = ListHandler()
    logger.addHandler(handler)
    try:
        logger.warning("card %s", PAN, extra={"lk.pii.user_transcript": PAN})
    finally:
        logger.removeHandler(handler)
    assert sum(isinstance(f, PiiFilter) for f in handler.filters) == 1
    assert not _leaks_pan(handler.lines[0])
    assert not hasattr(handler.records[0], "lk.pii.user_transcript")


def test_existing_handlers_get_the_filter_once() -> None:
    logger = logging.getLogger("voicepay.test.existing")
    handler = ListHandler()
    logger.handlers.append(handler)  # bypasses addHandler, so only install can see it
    try:
        install_pii_filter()
        install_pii_filter()
        assert [type(f) for f in handler.filters] == [PiiFilter]
        assert any(isinstance(f, PiiFilter) for f in logging.getLogger().handlers[0].filters)
    finally:
        logger.handlers.remove(handler)


def test_records_without_card_data_keep_their_template(
    captured: tuple[logging.Logger, ListHandler],
) -> None:
    logger, handler = captured
    install_pii_filter()
    logger.info("paid %s %s", 1234, "EUR")
    logger.info("%(a)s", {"a": "visible", "b": PAN})
    kept, collapsed = handler.records
    assert (kept.msg, kept.args) == ("paid %s %s", (1234, "EUR"))
    assert collapsed.getMessage() == "visible" and not collapsed.args  # unused PAN arg gone


def test_a_failing_mask_withholds_but_keeps_the_record(
    captured: tuple[logging.Logger, ListHandler], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, handler = captured
    install_pii_filter()

    def broken(text: str) -> str:
        raise RuntimeError("masking failed")

    monkeypatch.setattr(logging_setup, "mask_card_numbers", broken)
    logger.error("card %s", PAN, extra={"note": PAN})
    record = handler.records[0]
    assert "withheld" in record.getMessage()
    assert not hasattr(record, "note")


def test_json_formatter_line(captured: tuple[logging.Logger, ListHandler]) -> None:
    logger, handler = captured
    handler.setFormatter(JsonFormatter())
    token = call_id_var.set("call-42")
    try:
        logger.warning("two\nlines", extra={"amount_minor": 1234, "obj": object(), "x": 1e999})
    finally:
        call_id_var.reset(token)
    logger.info("outside a call")
    first, second = handler.lines
    assert "\n" not in first
    data = json.loads(first)
    assert data["level"] == "WARNING" and data["logger"] == "voicepay.test.logging"
    assert data["message"] == "two\nlines" and data["call_id"] == "call-42"
    assert data["amount_minor"] == 1234 and data["obj"].startswith("<object")
    assert data["x"] == "inf"
    assert datetime.fromisoformat(data["ts"]).tzinfo is not None
    assert json.loads(second)["call_id"] is None


def test_configure_logging_replaces_its_handlers(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging(level="debug", json_path=tmp_path / "a.jsonl")
    configure_logging(level="WARNING", json_path=tmp_path / "b.jsonl")
    assert len(root.handlers) == before + 2
    assert root.level == logging.WARNING
    configure_logging(level="INFO", console=False)
    assert len(root.handlers) == before
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging(level="LOUD")
