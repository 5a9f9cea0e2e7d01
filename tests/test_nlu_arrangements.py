from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.escalation import EscalationIntent, detect_escalation_intents
from agent.nlu import Intent, detect_intents, parse_instalment_count, parse_pay_date
from voicepay.spoken_numbers import number_to_words

CANNOT, PLAN, PROMISE, DECLINE = (
    Intent.CANNOT_PAY_IN_FULL,
    Intent.PAYMENT_PLAN,
    Intent.PROMISE_TO_PAY,
    Intent.DECLINE_ALL,
)
ARRANGEMENTS = {CANNOT, PLAN, PROMISE, DECLINE}
WEDNESDAY = date(2025, 3, 12)
langs = st.sampled_from(["en", "fr"])
todays = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))

WEEKDAYS = {
    "en": "monday tuesday wednesday thursday friday saturday sunday".split(),
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche".split(),
}
MONTHS = {
    "en": [calendar.month_name[m] for m in range(1, 13)],
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre "
    "décembre".split(),
}
_UNITS = "first second third fourth fifth sixth seventh eighth ninth".split()
_TEENS = (
    "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
    "nineteenth"
).split()
EN_ORDINALS = [
    "",
    *_UNITS,
    *_TEENS,
    "twentieth",
    *[f"twenty-{u}" for u in _UNITS],
    "thirtieth",
    "thirty-first",
]


def suffix(day: int) -> str:
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


@pytest.mark.parametrize(
    ("text", "lang", "intents"),
    [
        ("I can't pay all of that", "en", {CANNOT}),
        ("I can't afford the full amount today", "en", {CANNOT}),
        ("that's too much for me right now", "en", {CANNOT}),
        ("I can only pay part of it", "en", {CANNOT}),
        ("I cannot afford to pay all of it", "en", {CANNOT}),
        ("je n'ai pas les moyens de tout payer", "fr", {CANNOT}),
        ("I don't have that much", "en", {CANNOT}),
        ("I'm a bit short this month", "en", {CANNOT}),
        ("je ne peux pas tout payer", "fr", {CANNOT}),
        ("c'est trop pour moi ce mois-ci", "fr", {CANNOT}),
        ("je n'ai pas assez", "fr", {CANNOT}),
        ("je ne peux pas payer la totalité", "fr", {CANNOT}),
        ("je ne peux payer qu'une partie", "fr", {CANNOT}),
        ("can I pay in instalments", "en", {PLAN}),
        ("a payment plan", "en", {PLAN}),
        ("spread it over three months", "en", {PLAN}),
        ("split it into 3 payments", "en", {PLAN}),
        ("could I do two or three payments?", "en", {PLAN}),
        ("half now and the rest next month", "en", {PLAN}),
        ("fifty dollars a month", "en", {PLAN}),
        ("en plusieurs fois", "fr", {PLAN}),
        ("un échéancier", "fr", {PLAN}),
        ("payer en 3 fois", "fr", {PLAN}),
        ("étaler le paiement", "fr", {PLAN}),
        ("en quatre mensualités", "fr", {PLAN}),
        ("I'll pay on Friday", "en", {PROMISE}),
        ("I can pay it on the 15th", "en", {PROMISE}),
        ("I get paid next week, I'll pay then", "en", {PROMISE}),
        ("I'll pay when I get paid", "en", {PROMISE}),
        ("I can't pay until Friday", "en", {PROMISE}),
        ("could I pay in two weeks?", "en", {PROMISE}),
        ("I'll have the money tomorrow", "en", {PROMISE}),
        ("I cannot pay before the 20th", "en", {PROMISE}),
        ("je paierai le 15", "fr", {PROMISE}),
        ("je peux payer vendredi prochain", "fr", {PROMISE}),
        ("je vous paie à la fin du mois", "fr", {PROMISE}),
        ("je paierai quand je serai payé", "fr", {PROMISE}),
        ("je ne pourrai pas payer avant le premier avril", "fr", {PROMISE}),
        ("none of those", "en", {DECLINE}),
        ("no, I don't want any of that", "en", {DECLINE}),
        ("neither", "en", {DECLINE}),
        ("neither of them, thanks", "en", {DECLINE}),
        ("aucune de ces options", "fr", {DECLINE}),
        ("rien de tout ça", "fr", {DECLINE}),
        ("non, aucune", "fr", {DECLINE}),
        ("ni l'un ni l'autre", "fr", {DECLINE}),
        ("I can't pay all of it, can I pay in three instalments?", "en", {CANNOT, PLAN}),
        ("je ne peux pas tout payer, je paierai le reste vendredi", "fr", {CANNOT, PROMISE}),
        ("I'll pay fifty now, and then three payments starting Friday", "en", {PLAN, PROMISE}),
    ],
)
def test_detects_arrangement_requests(text: str, lang: str, intents: set[Intent]) -> None:
    assert detect_intents(text, lang) == intents


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("yes", "en"),
        ("the full balance", "en"),
        ("minimum", "en"),
        ("just the minimum payment", "en"),
        ("I'll pay fifty", "en"),
        ("I'll pay it today", "en"),
        ("pay 3 dollars", "en"),
        ("no problem", "en"),
        ("I don't need any help", "en"),
        ("it's not too much", "en"),
        ("I can't pay on Friday", "en"),
        ("I don't want a payment plan", "en"),
        ("the first payment", "en"),
        ("one second", "en"),
        ("I told you three times", "en"),
        ("I can't afford it", "en"),
        ("No, that's too much.", "en"),
        ("Hi, account 5 0 2 2 3 3 4 4.", "en"),
        ("oui", "fr"),
        ("c'est trop", "fr"),
        ("Je voudrais payer ma facture. Mon numéro de compte est le 40 11 22 33.", "fr"),
        ("mon numéro de compte est le 4 0 1 1 2 2 3 3", "fr"),
        ("la totalité", "fr"),
        ("le minimum", "fr"),
        ("je paie tout", "fr"),
        ("aucun problème", "fr"),
        ("aucune idée", "fr"),
        ("c'est trop bien", "fr"),
        ("je n'ai pas assez de temps", "fr"),
        ("je n'ai pas tout compris", "fr"),
        ("je ne veux pas payer en 3 fois", "fr"),
        ("je vous l'ai dit trois fois", "fr"),
        ("en une seule fois", "fr"),
    ],
)
def test_other_answers_are_no_arrangement(text: str, lang: str) -> None:
    assert not detect_intents(text, lang) & ARRANGEMENTS


# The escalation tests' hardship statements: each still sends the caller to a person, and none
# reads as an arrangement the dialog policy could answer instead.
HARDSHIP_STATEMENTS = [
    ("I can't afford it", "en"),
    ("I lost my job last month", "en"),
    ("I can't pay right now", "en"),
    ("I'm struggling to pay my bills", "en"),
    ("I've been made redundant", "en"),
    ("I'm having financial difficulties", "en"),
    ("I could no longer afford it after the surgery", "en"),
    ("I'm out of work at the moment and money's tight", "en"),
    ("I just can't afford this right now", "en"),
    ("Je n'ai pas les moyens", "fr"),
    ("J'ai perdu mon emploi", "fr"),
    ("Je suis au chômage", "fr"),
    ("Je ne peux pas payer ce mois-ci", "fr"),
    ("Je n'ai plus d'argent", "fr"),
    ("J'ai des difficultés financières", "fr"),
    ("Je ne peux plus payer", "fr"),
    ("Je n'arrive plus à payer mes factures", "fr"),
]


@pytest.mark.parametrize(("text", "lang"), HARDSHIP_STATEMENTS)
def test_hardship_statements_stay_hardship_only(text: str, lang: str) -> None:
    assert detect_escalation_intents(text, lang) == {EscalationIntent.HARDSHIP}
    assert not detect_intents(text, lang) & ARRANGEMENTS


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I lost my job, I can't pay all of that", "en"),
        ("I can't feed my kids, that's too much", "en"),
        ("I'm unemployed so I can't pay the full amount", "en"),
        ("j'ai perdu mon travail, je ne peux pas tout payer", "fr"),
        ("je suis au chômage, c'est trop pour moi", "fr"),
    ],
)
def test_a_stated_hardship_outranks_cannot_pay_in_full(text: str, lang: str) -> None:
    assert CANNOT not in detect_intents(text, lang)


@pytest.mark.parametrize(
    ("text", "lang", "intents"),
    [
        ("cancel", "en", {Intent.CANCEL}),
        ("I don't want to pay", "en", {Intent.CANCEL}),
        ("goodbye", "en", {Intent.GOODBYE}),
        ("that's all I can afford", "en", set()),
        ("never mind, I'll pay fifty", "en", set()),
        ("c'est tout ce que je peux payer", "fr", set()),
        ("annulez", "fr", {Intent.CANCEL}),
        ("au revoir", "fr", {Intent.GOODBYE}),
        ("I'd like to speak to an agent about a payment plan", "en", {Intent.HUMAN, PLAN}),
    ],
)
def test_call_level_intents_keep_their_meaning(text: str, lang: str, intents: set[Intent]) -> None:
    assert detect_intents(text, lang) == intents


@pytest.mark.parametrize(
    ("text", "lang", "count"),
    [
        ("three payments", "en", 3),
        ("in 3 instalments", "en", 3),
        ("over four months", "en", 4),
        ("six monthly payments", "en", 6),
        ("split it into 3", "en", 3),
        ("can I pay in twelve installments of fifty dollars", "en", 12),
        ("3 payments over 6 months", "en", 3),
        ("not three payments, four payments", "en", 4),
        ("en trois fois", "fr", 3),
        ("en 4 mensualités", "fr", 4),
        ("sur six mois", "fr", 6),
        ("en 3x sans frais", "fr", 3),
        ("étaler sur dix mois", "fr", 10),
        ("a payment plan", "en", None),
        ("pay 3 dollars", "en", None),
        ("I'll pay 300 on the 3rd", "en", None),
        ("in three months", "en", None),
        ("two or three payments", "en", None),
        ("in one payment", "en", None),
        ("I don't want three payments", "en", None),
        ("un échéancier", "fr", None),
        ("en une fois", "fr", None),
        ("dans trois mois", "fr", None),
        ("trois euros", "fr", None),
        ("je vous l'ai dit trois fois", "fr", None),
    ],
)
def test_parse_instalment_count(text: str, lang: str, count: int | None) -> None:
    assert parse_instalment_count(text, lang) == count


@given(
    st.integers(2, 12),
    st.booleans(),
    st.sampled_from(
        [
            ("en", "{n} payments"),
            ("en", "in {n} instalments"),
            ("en", "can I split it into {n} monthly payments?"),
            ("en", "over {n} months please"),
            ("fr", "en {n} fois"),
            ("fr", "je voudrais payer en {n} mensualités"),
            ("fr", "sur {n} mois"),
        ]
    ),
)
def test_any_instalment_count_reads_back(n: int, in_words: bool, template: tuple[str, str]) -> None:
    lang, text = template
    said = number_to_words(n, lang) if in_words else str(n)
    assert parse_instalment_count(text.format(n=said), lang) == n


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("on Friday", "en", date(2025, 3, 14)),
        ("next Friday", "en", date(2025, 3, 14)),
        ("on Wednesday", "en", date(2025, 3, 19)),
        ("tomorrow", "en", date(2025, 3, 13)),
        ("the day after tomorrow", "en", date(2025, 3, 14)),
        ("on the 15th", "en", date(2025, 3, 15)),
        ("on the fifteenth", "en", date(2025, 3, 15)),
        ("on the 12th", "en", date(2025, 4, 12)),
        ("on the 15th of December", "en", date(2025, 12, 15)),
        ("December 15th", "en", date(2025, 12, 15)),
        ("15 December", "en", date(2025, 12, 15)),
        ("on the 1st of March", "en", date(2026, 3, 1)),
        ("March the twelfth", "en", date(2026, 3, 12)),
        ("December 15, 2026", "en", date(2026, 12, 15)),
        ("in two weeks", "en", date(2025, 3, 26)),
        ("in 10 days", "en", date(2025, 3, 22)),
        ("in a month", "en", date(2025, 4, 12)),
        ("at the end of the month", "en", date(2025, 3, 31)),
        ("the end of next month", "en", date(2025, 4, 30)),
        ("the 15th of next month", "en", date(2025, 4, 15)),
        ("I get paid on Friday, so I'll pay then", "en", date(2025, 3, 14)),
        ("not on Friday, on Monday", "en", date(2025, 3, 17)),
        ("I can't pay until Friday", "en", date(2025, 3, 14)),
        ("le 15", "fr", date(2025, 3, 15)),
        ("le 15 décembre", "fr", date(2025, 12, 15)),
        ("le premier avril", "fr", date(2025, 4, 1)),
        ("le premier", "fr", date(2025, 4, 1)),
        ("vendredi", "fr", date(2025, 3, 14)),
        ("vendredi prochain", "fr", date(2025, 3, 14)),
        ("demain", "fr", date(2025, 3, 13)),
        ("après-demain", "fr", date(2025, 3, 14)),
        ("dans deux semaines", "fr", date(2025, 3, 26)),
        ("dans 10 jours", "fr", date(2025, 3, 22)),
        ("à la fin du mois", "fr", date(2025, 3, 31)),
        ("d'ici le 20", "fr", date(2025, 3, 20)),
        ("je ne peux pas payer avant lundi", "fr", date(2025, 3, 17)),
    ],
)
def test_parse_pay_date(text: str, lang: str, expected: date) -> None:
    assert parse_pay_date(text, lang, WEDNESDAY) == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("a payment plan", "en"),
        ("today", "en"),
        ("next week", "en"),
        ("I'll pay fifty", "en"),
        ("I can't pay on Friday", "en"),
        ("on Friday the 20th", "en"),
        ("February 30th", "en"),
        ("on the 32nd", "en"),
        ("in two or three days", "en"),
        ("one second", "en"),
        ("the first payment", "en"),
        ("la semaine prochaine", "fr"),
        ("le 15 euros", "fr"),
        ("ni l'un ni l'autre", "fr"),
        ("pas vendredi", "fr"),
        ("mon numéro de compte est le 4 0 1 1 2 2 3 3", "fr"),
        ("le 40", "fr"),
    ],
)
def test_no_date_gives_none(text: str, lang: str) -> None:
    assert parse_pay_date(text, lang, WEDNESDAY) is None


@pytest.mark.parametrize(
    ("text", "lang", "today", "expected"),
    [
        ("15 December", "en", date(2025, 12, 20), date(2026, 12, 15)),
        ("le 15 décembre", "fr", date(2025, 12, 15), date(2026, 12, 15)),
        ("on the 31st", "en", date(2025, 4, 2), date(2025, 5, 31)),
        ("le 30", "fr", date(2025, 1, 31), date(2025, 3, 30)),
        ("February 29th", "en", date(2025, 3, 1), date(2028, 2, 29)),
        ("at the end of the month", "en", date(2025, 2, 28), date(2025, 3, 31)),
        ("in a month", "en", date(2025, 1, 31), date(2025, 2, 28)),
        ("on Friday", "en", date(2025, 3, 14), date(2025, 3, 21)),
    ],
)
def test_dates_roll_forward(text: str, lang: str, today: date, expected: date) -> None:
    assert parse_pay_date(text, lang, today) == expected


def phrases() -> st.SearchStrategy[tuple[str, str]]:
    number = st.integers(0, 400).map(str)
    parts = st.lists(
        st.one_of(
            number,
            st.sampled_from(WEEKDAYS["en"] + WEEKDAYS["fr"] + MONTHS["en"] + MONTHS["fr"]),
            st.sampled_from(
                "on the of next in days weeks months tomorrow le dans jours semaines demain "
                "fin du mois end month not pas until avant th st 1er".split()
            ),
        ),
        max_size=8,
    )
    return st.tuples(parts.map(" ".join) | st.text(max_size=40), langs)


@given(phrases(), todays)
def test_a_pay_date_is_always_after_today(phrase: tuple[str, str], today: date) -> None:
    text, lang = phrase
    said = parse_pay_date(text, lang, today)
    assert said is None or said > today


@given(st.integers(1, 60), st.booleans(), langs, todays)
def test_in_n_days_is_today_plus_n(n: int, in_words: bool, lang: str, today: date) -> None:
    said = number_to_words(n, lang) if in_words else str(n)
    text = f"in {said} days" if lang == "en" else f"dans {said} jours"
    assert parse_pay_date(text, lang, today) == today + timedelta(days=n)


@given(st.integers(1, 31), st.sampled_from(["digits", "words"]), langs, todays)
def test_a_day_of_the_month_is_the_next_such_day(
    day: int, form: str, lang: str, today: date
) -> None:
    if lang == "en":
        said = f"{day}{suffix(day)}" if form == "digits" else EN_ORDINALS[day]
        text = f"I'll pay on the {said}"
    else:
        said = (
            str(day) if form == "digits" else "premier" if day == 1 else number_to_words(day, lang)
        )
        text = f"je paierai le {said}"
    found = parse_pay_date(text, lang, today)
    assert found is not None and found.day == day and found > today
    between = (today + timedelta(days=k) for k in range(1, (found - today).days))
    assert all(d.day != day for d in between)


@given(st.integers(0, 6), langs, st.sampled_from(["{}", "on {}", "next {}"]), todays)
def test_a_weekday_is_within_the_next_seven_days(
    weekday: int, lang: str, template: str, today: date
) -> None:
    name = WEEKDAYS[lang][weekday]
    text = template.format(name) if lang == "en" else f"{name} prochain"
    found = parse_pay_date(text, lang, today)
    assert found is not None and found.weekday() == weekday
    assert 1 <= (found - today).days <= 7


@given(st.integers(1, 12), st.integers(1, 28), langs, todays)
def test_a_day_and_month_is_the_next_such_date(
    month: int, day: int, lang: str, today: date
) -> None:
    text = (
        f"the {day}{suffix(day)} of {MONTHS['en'][month - 1]}"
        if lang == "en"
        else (f"le {day} {MONTHS['fr'][month - 1]}")
    )
    found = parse_pay_date(text, lang, today)
    assert found is not None and (found.month, found.day) == (month, day)
    assert today < found <= today + timedelta(days=366)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_instalment_count("three payments", "de")
    with pytest.raises(ValueError):
        parse_pay_date("Friday", "de", WEDNESDAY)


@pytest.mark.parametrize(
    ("text", "lang", "asked"),
    [
        ("The minimum please, and can you keep my card on file for next time?", "en", True),
        ("Could you save my card details for future payments?", "en", True),
        ("Gardez ma carte pour la prochaine fois, s'il vous plaît.", "fr", True),
        ("Vous pouvez enregistrer ma carte ?", "fr", True),
        ("No, I don't want you to keep my card.", "en", False),
        ("Please don't save my card.", "en", False),
        ("Non, je ne veux pas que vous gardiez ma carte.", "fr", False),
        ("What card number do you have saved?", "en", False),
    ],
)
def test_a_request_to_keep_the_card_is_heard_and_a_refusal_is_not(
    text: str, lang: str, asked: bool
) -> None:
    assert (Intent.KEEP_CARD in detect_intents(text, lang)) is asked
