"""Scans every artefact of a call run for card data: the digits the caller typed, in any form.

A run leaks when any artefact (LLM request, chat history, transcript, event, log line, Redis key or
value, file) holds a card number the caller typed (with or without separators, or spelled out in
words), its expiry (``0931``, ``09/31``, ``09/2031``...), its security code as a standalone number,
or any Luhn-valid 13–19-digit run at all. JSON is walked value by value so that timing fields and
timestamps, which are numbers by nature, are not mistaken for a three-digit code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from evals.scenario import KeysTurn, Scenario
from payment_tools.redaction import find_luhn_runs
from voicepay.spoken_numbers import words_to_digits

_NUMBER_WORD = re.compile(
    r"\b(zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred|thousand|double|triple|z[ée]ro|un|une|deux|trois|quatre|"
    r"cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingts?|trente|"
    r"quarante|cinquante|soixante|octante|nonante|cents?|mille)\b",
    re.IGNORECASE,
)
_PAN_WINDOW = 8
_TIMING_KEYS = frozenset({"at_ms", "created_at", "ts", "timestamp", "duration", "version"})
_ISO_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?$"
)


@dataclass(frozen=True, slots=True)
class CardSecrets:
    """The card data a scenario's caller typed, by field."""

    numbers: frozenset[str] = frozenset()
    expiries: frozenset[str] = frozenset()
    security_codes: frozenset[str] = frozenset()
    postal_codes: frozenset[str] = frozenset()

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> CardSecrets:
        """Collect the digits of every keys turn marked as card data, and the card facts."""
        fields: dict[str, set[str]] = {
            "number": set(),
            "expiry": set(),
            "security_code": set(),
            "postal_code": set(),
        }
        for turn in scenario.caller:
            if isinstance(turn, KeysTurn) and turn.card is not None:
                for part in re.split(r"[*#]", turn.keys):
                    if part:
                        fields[turn.card].add(part)
        facts, saved = scenario.facts, scenario.saved_card
        for field, value in (
            ("number", facts.card_number),
            ("expiry", facts.expiry),
            ("security_code", facts.security_code),
            ("number", saved.number if saved else None),
            ("expiry", saved.expiry if saved else None),
            ("security_code", saved.security_code if saved else None),
        ):
            if value is not None:
                fields[field].add(value)
        return cls(
            numbers=frozenset(fields["number"]),
            expiries=frozenset(fields["expiry"]),
            security_codes=frozenset(fields["security_code"]),
            postal_codes=frozenset(fields["postal_code"]),
        )


@dataclass(frozen=True, slots=True)
class Leak:
    """One piece of card data found where it must not be."""

    where: str
    kind: str


def _separated(digits: str) -> str:
    return r"[\s.\-/]{0,3}".join(re.escape(d) for d in digits)


class LeakScanner:
    """Finds card data in text, JSON, files and Redis.

    Args:
        secrets: the card data the caller typed.
    """

    def __init__(self, secrets: CardSecrets) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        windows = {
            number[start : start + _PAN_WINDOW]
            for number in secrets.numbers
            for start in range(max(1, len(number) - _PAN_WINDOW + 1))
        }
        # Any eight consecutive digits of a typed card number is a leak, not only the whole number.
        self._patterns.extend(
            ("card_number", re.compile(_separated(window))) for window in sorted(windows)
        )
        for expiry in secrets.expiries:
            if len(expiry) == 4:
                month, year = expiry[:2], expiry[2:]
                forms = [
                    rf"\b{month}\s*[/\-. ]?\s*{year}\b",
                    rf"\b{month}\s*[/\-. ]?\s*20{year}\b",
                ]
                self._patterns.extend(("expiry", re.compile(form)) for form in forms)
            else:
                self._patterns.append(("expiry", re.compile(rf"\b{re.escape(expiry)}\b")))
        for code in secrets.security_codes:
            self._patterns.append(("security_code", re.compile(rf"\b{re.escape(code)}\b")))
        for code in secrets.postal_codes:
            self._patterns.append(("postal_code", re.compile(rf"\b{re.escape(code)}\b")))
        self._seen: dict[str, frozenset[str]] = {}
        self._exact = {
            value: kind
            for kind, values in (
                ("card_number", secrets.numbers),
                ("expiry", secrets.expiries),
                ("security_code", secrets.security_codes),
            )
            for value in values
        }

    def scan_text(self, where: str, text: str) -> list[Leak]:
        """Leaks in free text, also after reading spelled-out numbers as digits."""
        kinds = self._seen.get(text)
        if kinds is None:
            kinds = self._seen[text] = self._kinds(text)
        return [Leak(where=where, kind=kind) for kind in sorted(kinds)]

    def _kinds(self, text: str) -> frozenset[str]:
        if _ISO_TIMESTAMP.match(text) or not any(ch.isdigit() for ch in text):
            if not _NUMBER_WORD.search(text):
                return frozenset()
        variants = {text, words_to_digits(text)} if _NUMBER_WORD.search(text) else {text}
        found: set[str] = set()
        for variant in variants:
            found.update(kind for kind, pattern in self._patterns if pattern.search(variant))
            if find_luhn_runs(variant):
                found.add("luhn_run")
        return frozenset(found)

    def scan_json(self, where: str, value: Any, key: str | None = None) -> list[Leak]:
        """Leaks in a decoded JSON value, walked recursively."""
        leaks: list[Leak] = []
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                # JSON inside a string (a hand-off brief in a stream field): walk it as JSON.
                return self.scan_json(where, json.loads(value), key)
            except ValueError:
                leaks.extend(self.scan_text(where, value))
        elif isinstance(value, str):
            leaks.extend(self.scan_text(where, value))
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int | float):
            if key not in _TIMING_KEYS and str(value) in self._exact:
                leaks.append(Leak(where=where, kind=self._exact[str(value)]))
        elif isinstance(value, dict):
            for name, item in value.items():
                leaks.extend(self.scan_text(where, str(name)))
                leaks.extend(self.scan_json(where, item, str(name)))
        elif isinstance(value, list | tuple):
            for item in value:
                leaks.extend(self.scan_json(where, item, key))
        return leaks

    def scan_raw(self, where: str, text: str) -> list[Leak]:
        """Leaks in a blob that may be JSON, JSON lines or plain text."""
        try:
            return self.scan_json(where, json.loads(text))
        except ValueError:
            pass
        leaks: list[Leak] = []
        for number, line in enumerate(text.splitlines(), start=1):
            try:
                leaks.extend(self.scan_json(f"{where}:{number}", json.loads(line)))
            except ValueError:
                leaks.extend(self.scan_text(f"{where}:{number}", line))
        return leaks

    def scan_files(self, root: Path) -> list[Leak]:
        """Leaks in every file below ``root``."""
        leaks: list[Leak] = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            text = path.read_bytes().decode("utf-8", errors="replace")
            leaks.extend(self.scan_raw(f"file:{path.relative_to(root)}", text))
        return leaks

    async def scan_redis(self, redis: Redis) -> list[Leak]:
        """Leaks in every key and value of the Redis database."""
        leaks: list[Leak] = []
        async for key in redis.scan_iter(count=500):
            name = str(key)
            leaks.extend(self.scan_text(f"redis-key:{name}", name))
            for blob in await _redis_values(redis, name):
                leaks.extend(self.scan_raw(f"redis:{name}", blob))
        return leaks

    def scan_many(self, where: str, texts: Iterable[str]) -> list[Leak]:
        """Leaks in a sequence of texts (log lines, messages...)."""
        return [leak for text in texts for leak in self.scan_raw(where, text)]


async def _redis_values(redis: Redis, key: str) -> list[str]:
    kind = await redis.type(key)
    if kind == "string":
        value = await redis.get(key)
        return [] if value is None else [str(value)]
    if kind == "hash":
        return [f"{k!s}={v!s}" for k, v in (await redis.hgetall(key)).items()]
    if kind == "list":
        return [str(v) for v in await redis.lrange(key, 0, -1)]
    if kind in ("set", "zset"):
        members = await (redis.smembers(key) if kind == "set" else redis.zrange(key, 0, -1))
        return [str(v) for v in members]
    if kind == "stream":
        return [json.dumps(fields) for _, fields in await redis.xrange(key) or []]
    return []


def iter_strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value (for scanning in-memory structures)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield str(name)
            yield from iter_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from iter_strings(item)
