"""Reading when a caller says they will pay: "on Friday", "the 15th", "dans deux semaines"...

Dates are read from :func:`digit_form`: the normalised utterance with numbers said in words turned
into numerals and ordinal days ("the fifteenth") into "15th". Rules are tried in order, most
specific first ("the 15th of December" before "the 15th"), and the words a rule took are masked so
that no later rule reads them again. A date phrase governed by a negation ("not on Friday", "pas
vendredi") does not count, except after "until", "before", "avant" or "jusqu'à": "I can't pay
until Friday" means Friday.

Vague times ("next week", "later", "le mois prochain") are mentions of a time to pay but not
dates: :func:`mentions_pay_time` reports them, :func:`parse_pay_date` does not.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta

from agent._nlu_text import matches, negated, normalise, rx, word_index
from voicepay.spoken_numbers import check_language, find_number_spans

Resolver = Callable[[re.Match[str], date, str], date | None]
"""Reads a matched date phrase as a date, given today and the language."""

_MONTH_NAMES = {
    "en": (
        "january|jan",
        "february|feb",
        "march|mar",
        "april|apr",
        "may",
        "june|jun",
        "july|jul",
        "august|aug",
        "september|sept|sep",
        "october|oct",
        "november|nov",
        "december|dec",
    ),
    "fr": tuple(
        "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre "
        "decembre".split()
    ),
}
_MONTHS = {
    lang: {name: k for k, names in enumerate(spelled, 1) for name in names.split("|")}
    for lang, spelled in _MONTH_NAMES.items()
}
_MONTH = {lang: "|".join(sorted(months, key=len, reverse=True)) for lang, months in _MONTHS.items()}
_WEEKDAYS = {
    "en": "monday tuesday wednesday thursday friday saturday sunday".split(),
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche".split(),
}
_UNTIL = frozenset("until till before avant jusque".split())
# The furthest a relative date may reach ("in 99999 days" is no promise, and no valid date).
_HORIZON_DAYS = 3660

_EN_UNITS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
).split()
_EN_ORDINALS = {
    **{word: n for n, word in enumerate(_EN_UNITS, 1)},
    "twentieth": 20,
    "thirtieth": 30,
    **{f"twenty {word}": 20 + n for n, word in enumerate(_EN_UNITS[:9], 1)},
    "thirty first": 31,
}
_EN_ORDINAL = re.compile(
    r"\b(?P<before>the |"
    + _MONTH["en"].replace("|", " |")
    + r" )?(?P<word>"
    + "|".join(sorted(_EN_ORDINALS, key=len, reverse=True))
    + r")\b"
)
_FR_PREMIER = re.compile(rf"\b(le|au) premier(?= \||$| (?:{_MONTH['fr']}|du|de le|de ce)\b)")
# A lone "one"/"un"/"une" is as often an article or a pronoun ("l'un", "une partie"): kept as a
# word, for the rules that take it as a number to say so.
_LONE_ONE = frozenset({"one", "un", "une"})


def digit_form(text: str, lang: str) -> str:
    """``text`` normalised, with numbers in words as numerals and ordinal days as "15th"/"1er".

    Numerals already written as digits are kept as they were, so "December 15 2025" keeps its
    day and year apart, and so is a lone "one", "un" or "une".
    """
    norm = normalise(text)
    if lang == "en":
        norm = _EN_ORDINAL.sub(_en_ordinal, norm)
    else:
        norm = _FR_PREMIER.sub(r"\1 1er", norm)
    out, pos = [], 0
    for span in find_number_spans(norm, lang):
        said = norm[span.start : span.end]
        keep = said in _LONE_ONE or any(ch.isdigit() for ch in said)
        out += [norm[pos : span.start], said if keep else span.digits]
        pos = span.end
    return "".join(out) + norm[pos:]


def _en_ordinal(match: re.Match[str]) -> str:
    before, word = match["before"] or "", match["word"]
    # "one second", "the second time": "second" is a day only after "the" or a month.
    if word == "second" and not before:
        return match[0]
    return f"{before}{_EN_ORDINALS[word]}th"


def _valid(year: int, month: int, day: int) -> date | None:
    return date(year, month, day) if 1 <= day <= calendar.monthrange(year, month)[1] else None


def _month_after(year: int, month: int) -> tuple[int, int]:
    return (year, month + 1) if month < 12 else (year + 1, 1)


def _next_day_of_month(day: int, today: date) -> date | None:
    """The first date after ``today`` whose day of the month is ``day``."""
    year, month = today.year, today.month
    for _ in range(3):  # a day that exists comes round within three months (31 after February)
        candidate = _valid(year, month, day)
        if candidate is not None and candidate > today:
            return candidate
        year, month = _month_after(year, month)
    return None


def _day_month(match: re.Match[str], today: date, lang: str) -> date | None:
    day, month = int(match["day"]), _MONTHS[lang][match["month"]]
    if match["year"]:
        year = int(match["year"])
        found = _valid(year, month, day) if today.year <= year <= today.year + 10 else None
        return found if found is not None and found > today else None
    for year in range(today.year, today.year + 9):  # 29 February comes back within 8 years
        candidate = _valid(year, month, day)
        if candidate is not None and candidate > today:
            return candidate
    return None


def _day_next_month(match: re.Match[str], today: date, _: str) -> date | None:
    return _valid(*_month_after(today.year, today.month), int(match["day"]))


def _end_of_month(today: date, months_ahead: int = 0) -> date:
    year, month = today.year, today.month
    for _ in range(months_ahead):
        year, month = _month_after(year, month)
    end = date(year, month, calendar.monthrange(year, month)[1])
    return end if end > today else _end_of_month(today, months_ahead + 1)


def _start_of_next_month(_: re.Match[str], today: date, __: str) -> date:
    return date(*_month_after(today.year, today.month), 1)


_UNIT_DAYS = {"day": 1, "jour": 1, "week": 7, "semaine": 7, "fortnight": 14}


def _relative(match: re.Match[str], today: date, _: str) -> date | None:
    said = match["n"]
    n = int(said) if said.isdigit() else 2 if "couple" in said else 1
    unit = match["unit"]
    if unit in ("month", "months", "mois"):
        if not 1 <= n <= _HORIZON_DAYS // 31:
            return None
        year, month = divmod(today.month - 1 + n, 12)
        year += today.year
        return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))
    days = n * _UNIT_DAYS[unit.removesuffix("s")]
    return today + timedelta(days=days) if 1 <= days <= _HORIZON_DAYS else None


def _weekday(match: re.Match[str], today: date, lang: str) -> date:
    weekday = _WEEKDAYS[lang].index(match["weekday"])
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _next_day(match: re.Match[str], today: date, _: str) -> date | None:
    return _next_day_of_month(int(match["day"]), today)


def _after(days: int) -> Resolver:
    return lambda _, today, __: today + timedelta(days=days)


def _end_next(_: re.Match[str], today: date, __: str) -> date:
    return _end_of_month(today, 1)


def _end_this(_: re.Match[str], today: date, __: str) -> date:
    return _end_of_month(today)


_YEAR = r"(?: \|)?(?: (?P<year>\d{4}))?"
_TH = r"(?:st|nd|rd|th)?"
_DAY = r"(?P<day>[12]\d|3[01]|0?[1-9])"
_NOT_A_NOUN = {
    "en": r"(?! (?:\d|payments?|instal?ments?|installments?|ones?|times?|options?|cards?|months?"
    r"|weeks?|years?|numbers?|digits?|steps?|things?|amounts?|choices?|half|parts?|dollars?"
    r"|euros?|pounds?|bucks|cents?|percent))",
    "fr": r"(?! (?:\d|euros?|dollars?|livres?|francs?|pour ?cent|fois|mois|jours?|semaines?|ans"
    r"|heures?|h|minutes?|paiements?|versements?|mensualites?|premiers?|derniers?))",
}
_RULE_TEXT: dict[str, tuple[tuple[str, Resolver], ...]] = {
    "en": (
        (rf"(?:the )?{_DAY}{_TH} (?:of )?(?P<month>{_MONTH['en']}){_YEAR}", _day_month),
        (rf"(?P<month>{_MONTH['en']}) (?:the )?{_DAY}{_TH}{_YEAR}", _day_month),
        (rf"(?:the )?{_DAY}{_TH} of (?:the )?next month", _day_next_month),
        (rf"(?:the )?{_DAY}{_TH} of (?:the|this) month", _next_day),
        (r"end of (?:the )?next month", _end_next),
        (r"end of (?:the |this )?month|month end", _end_this),
        (r"(?:beginning|start) of (?:the )?next month", _start_of_next_month),
        (
            r"(?:in|within) (?P<n>\d+|a|an|one|a couple of|a couple)"
            r" (?P<unit>days?|weeks?|fortnights?|months?)",
            _relative,
        ),
        (
            r"(?P<n>\d+|a|an) (?P<unit>days?|weeks?|fortnights?|months?) from (?:now|today)",
            _relative,
        ),
        (r"(?:the )?day after tomorrow", _after(2)),
        (r"tomorrow", _after(1)),
        (
            rf"(?:on|by|before|until|till|after) the {_DAY}{_TH}{_NOT_A_NOUN['en']}",
            _next_day,
        ),
        (rf"the {_DAY}(?:st|nd|rd|th){_NOT_A_NOUN['en']}", _next_day),
        (rf"(?P<weekday>{'|'.join(_WEEKDAYS['en'])})", _weekday),
    ),
    "fr": (
        (rf"(?:le )?{_DAY}(?:er)? (?P<month>{_MONTH['fr']}){_YEAR}", _day_month),
        (rf"(?:le )?{_DAY}(?:er)? (?:du|de le) mois prochain", _day_next_month),
        (rf"(?:le )?{_DAY}(?:er)? (?:du|de le|de ce) mois", _next_day),
        (r"fin (?:du|de le) mois prochain", _end_next),
        (r"fin (?:du|de le|de ce) mois|fin de mois", _end_this),
        (r"debut (?:du|de le|de) mois prochain", _start_of_next_month),
        (r"(?:dans|de ici) (?P<n>\d+|un|une) (?P<unit>jours?|semaines?|mois)", _relative),
        (r"apres demain", _after(2)),
        (r"demain", _after(1)),
        (rf"(?:le|au) {_DAY}(?:er)?{_NOT_A_NOUN['fr']}", _next_day),
        (rf"(?P<weekday>{'|'.join(_WEEKDAYS['fr'])})", _weekday),
    ),
}
_RULES = {
    lang: tuple((re.compile(rf"\b(?:{pattern})\b"), resolve) for pattern, resolve in rules)
    for lang, rules in _RULE_TEXT.items()
}
_VAGUE = {
    "en": rx(
        r"next (?:week|month)|this (?:week|weekend|month)|(?:the|next) weekend|pay ?day",
        r"(?:later|early|earlier) (?:this|next) (?:week|month)|end of (?:the|this|next) week",
        rf"(?:in )?a few (?:days|weeks)|in (?:{_MONTH['en']})|later|soon|another (?:day|time)",
        r"(?:when|once|after|as soon as) (?:i|we) (?:get|am|are) paid",
    ),
    "fr": rx(
        r"la semaine prochaine|le mois prochain|ce week end|(?:en )?fin de (?:la )?semaine",
        rf"plus tard|bientot|un autre jour|dans quelques (?:jours|semaines)|en (?:{_MONTH['fr']})",
        r"jour de (?:la )?paie|quand je (?:serai|suis) payee?|dans (?:une|la) quinzaine",
    ),
}


def _dates_said(norm: str, lang: str, today: date) -> tuple[list[date | None], bool]:
    """Every date phrase in ``norm`` that no negation governs, resolved against ``today``."""
    masked = norm
    words = norm.split(" ")
    found: list[date | None] = []
    for pattern, resolve in _RULES[lang]:
        for match in pattern.finditer(masked):
            index = word_index(masked, match.start())
            until = words[index] in _UNTIL or (index > 0 and words[index - 1] in _UNTIL)
            if until or not negated(words, index):
                found.append(resolve(match, today, lang))
        masked = pattern.sub(lambda m: re.sub(r"\S", "#", m[0]), masked)
    return found, matches(masked, _VAGUE[lang])


def parse_pay_date(text: str, lang: str, today: date) -> date | None:
    """The date a caller says they will pay on, always after ``today``; ``None`` if none is said.

    Reads "on Friday"/"next Friday" (the next one after today), "tomorrow", "on the 15th" (the
    next 15th from tomorrow), "the 15th of December"/"December 15th"/"15 December" (next year
    once past), "in two weeks"/"in 10 days", "at the end of the month", and in French "le 15",
    "le 15 décembre", "vendredi (prochain)", "demain", "dans deux semaines", "à la fin du mois".
    ``None`` too when the caller names two different dates or a date that does not exist.
    """
    check_language(lang)
    found, _ = _dates_said(digit_form(text, lang), lang, today)
    dates = set(found)
    if len(dates) != 1:
        return None
    said = dates.pop()
    return said if said is not None and said > today else None


def mentions_pay_time(norm_digits: str, lang: str) -> bool:
    """Whether a :func:`digit_form` text names a time to pay, a date or a vague one ("later")."""
    found, vague = _dates_said(norm_digits, lang, date.today())
    return vague or bool(found)
