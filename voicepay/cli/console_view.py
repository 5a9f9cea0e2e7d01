"""Prints a call's events as they happen: who said what, masked keys, steps and the outcome."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from agent.events import CallEvent


class ConsoleView:
    """An event listener that renders the call for a person watching the terminal."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def __call__(self, event: CallEvent) -> None:
        """Render one event (some kinds are not shown)."""
        line = self._render(event)
        if line is not None:
            self._console.print(f"[dim]{event.at_ms / 1000:6.2f}s[/] {line}")

    @staticmethod
    def _render(event: CallEvent) -> str | None:
        data = event.data
        match event.kind:
            case "agent_said":
                return f"[bold cyan]agent [/] {escape(str(data['text']))}"
            case "caller_said":
                note = " [dim](not heard: keypad capture)[/]" if data.get("ignored") else ""
                return f"[bold green]caller[/] {escape(str(data['text']))}{note}"
            case "keypad":
                return f"[bold green]caller[/] [green]keypad[/] {escape(str(data['masked']))}"
            case "step":
                return f"[yellow]step  [/] {data['source']} → {data['target']}"
            case "tool_call":
                return f"[magenta]tool  [/] {data['name']}({escape(str(data['arguments']))})"
            case "capture_progress" if data.get("error") or data.get("status"):
                detail = data.get("error") or data.get("status")
                masked = data.get("masked_number") or ""
                where = f"{data['field']} attempt {data['attempt']}"
                return f"[magenta]card  [/] {where}: {detail} {masked}"
            case "charge_result":
                reason = data.get("decline_reason") or ""
                return f"[magenta]charge[/] {data['status']} {reason}".rstrip()
            case "card_data_redacted":
                return "[red]guard [/] card data removed from the caller's speech"
            case "guard_alert":
                return "[red bold]guard [/] blocked an LLM request holding a card number"
            case "handoff":
                return f"[yellow]handoff[/] queued for a human ({data['reason']})"
            case "llm_fallback":
                return f"[red]llm   [/] {data['model']} available={data['available']}"
        return None
