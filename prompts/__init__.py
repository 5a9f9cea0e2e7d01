"""Every sentence the bot says, and the LLM's system prompt, as data files per language.

``en.yaml`` and ``fr.yaml`` hold the spoken prompts as nested keys (``capture.ask.security-code``);
``instructions_<lang>.md`` holds the LLM's instructions. Files are read once per language with
:mod:`importlib.resources` and cached.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]  # types-PyYAML may be absent

__all__ = ["LANGUAGES", "PromptBook", "PromptError"]

LANGUAGES = ("en", "fr")


class PromptError(LookupError):
    """A prompt key is unknown, a placeholder was not given, or a prompt file is malformed."""


def _flatten(tree: Any, prefix: str, out: dict[str, str]) -> dict[str, str]:
    if not isinstance(tree, dict):
        raise PromptError(f"prompt file: expected a mapping at {prefix or 'top level'!r}")
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            _flatten(value, f"{key}.", out)
        elif isinstance(value, str):
            out[key] = " ".join(value.split())
        else:
            raise PromptError(f"prompt file: {key!r} must be text or a mapping")
    return out


class PromptBook:
    """The prompts of one language; get one with :meth:`PromptBook.load`."""

    def __init__(self, language: str, prompts: dict[str, str], instructions: str) -> None:
        self._language = language
        self._prompts = prompts
        self._instructions = instructions

    @staticmethod
    @cache
    def load(lang: str) -> PromptBook:
        """The prompt book for ``lang`` (``"en"`` or ``"fr"``), read once and cached.

        Raises:
            PromptError: the language is not supported or its files are malformed.
        """
        if lang not in LANGUAGES:
            raise PromptError(f"no prompts for language {lang!r}; expected one of {LANGUAGES}")
        folder = resources.files(__name__)
        tree = yaml.safe_load(folder.joinpath(f"{lang}.yaml").read_text(encoding="utf-8"))
        instructions = folder.joinpath(f"instructions_{lang}.md").read_text(encoding="utf-8")
        return PromptBook(lang, _flatten(tree, "", {}), instructions.strip())

    @property
    def language(self) -> str:
        """The language code of these prompts."""
        return self._language

    def keys(self) -> frozenset[str]:
        """Every prompt key, dotted (``"charge.declined.generic"``)."""
        return frozenset(self._prompts)

    def has(self, key: str) -> bool:
        """Whether ``key`` names a prompt."""
        return key in self._prompts

    def brand_name(self, brand: str) -> str:
        """A card brand as said to the caller ("American Express"); the brand id when unnamed."""
        key = f"brand.{brand}"
        return self.text(key) if self.has(key) else brand

    def placeholders(self, key: str) -> frozenset[str]:
        """The ``{names}`` the prompt ``key`` expects."""
        template = self._template(key)
        return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)

    def text(self, key: str, **values: object) -> str:
        """The prompt ``key`` with its placeholders filled; extra ``values`` are ignored.

        Raises:
            PromptError: ``key`` is unknown or one of its placeholders is missing.
        """
        template = self._template(key)
        missing = self.placeholders(key) - values.keys()
        if missing:
            raise PromptError(f"prompt {key!r} needs {sorted(missing)}")
        return template.format(**values)

    def instructions(self) -> str:
        """The LLM system prompt for this language."""
        return self._instructions

    def _template(self, key: str) -> str:
        try:
            return self._prompts[key]
        except KeyError:
            raise PromptError(f"no prompt {key!r} in language {self._language!r}") from None
