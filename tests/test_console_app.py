from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from argon2 import PasswordHasher
from starlette.routing import Route
from starlette.testclient import TestClient

from payment_tools.redaction import contains_luhn_run
from voicepay.console import ConsoleConfig, create_app
from voicepay.console._redis import stream_entries
from voicepay.console.app import SECURITY_HEADERS
from voicepay.console.transfers import handoff_stream, ref_of
from voicepay.console.users import Role, UserStore
from voicepay.handoff_brief import HandoffBrief, MaskedCard, TranscriptLine
from voicepay.redis_client import connect

SECRET = b"s" * 32
PASSWORD = "correct horse battery"
PAN = "4242 4242 4242 4242"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(url: str, name: str, role: Role, queues: list[str]) -> None:
    async def create() -> None:
        client = connect(url)
        try:
            await UserStore(client, FAST_HASHER).create(name, PASSWORD, role, queues)
        finally:
            await client.aclose()

    asyncio.run(create())


def queue_transfer(db: redis.Redis, queue: str = "payments") -> str:
    brief = HandoffBrief(
        holder="Ada Lovelace",
        account="40112233",
        verified=True,
        verification="date of birth",
        goal="pay the balance",
        card=MaskedCard(brand="visa", last4="4242"),
        sentiment=[0.1, -0.4, -0.8],
        reason="repeated_declines",
        next_step="offer another card",
        transcript=[TranscriptLine(speaker="caller", text="it's [card data removed]")],
    )
    entry_id = db.xadd(
        handoff_stream(queue),
        {
            "call_id": "call_1",
            "reason": "repeated_declines",
            "account": "40112233",
            "verified": "yes",
            "summary": f"caller said {PAN}",
            "created_at": datetime.now(UTC).isoformat(),
            "brief": brief.to_json(),
        },
    )
    return ref_of(str(entry_id))


@pytest.fixture
def db(redis_server: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def client_for(url: str, *, secure_cookies: bool = False) -> TestClient:
    settings = ConsoleConfig(
        secure_cookies=secure_cookies,
        login_max_failures=3,
        password_time_cost=1,
        password_memory_kib=8192,
    )
    return TestClient(create_app(settings, url, SECRET), follow_redirects=False)


@pytest.fixture
def client(redis_server: str, db: redis.Redis) -> Iterator[TestClient]:
    add_user(redis_server, "alice", Role.AGENT, ["payments"])
    add_user(redis_server, "sam", Role.SUPERVISOR, [])
    with client_for(redis_server) as test_client:
        yield test_client


def login(client: TestClient, username: str, password: str = PASSWORD, next_: str = "") -> int:
    page = client.get("/login")
    match = CSRF.search(page.text)
    assert match is not None
    data = {"csrf_token": match.group(1), "username": username, "password": password}
    response = client.post("/login", data={**data, "next": next_})
    return response.status_code


def csrf_of(client: TestClient) -> str:
    match = CSRF.search(client.get("/queue").text)
    assert match is not None
    return match.group(1)


def audit_rows(db: redis.Redis) -> list[dict[str, str]]:
    return [fields for _, fields in stream_entries(db.xrange("voicepay:audit"))]


def routes(client: TestClient, method: str, ref: str) -> list[str]:
    paths = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.methods and method in route.methods:
            if route.path != "/login":
                paths.append(route.path.format(queue="payments", ref=ref))
    return paths


def test_unauthenticated_gets_go_to_the_login_page(client: TestClient, db: redis.Redis) -> None:
    ref = queue_transfer(db)
    paths = routes(client, "GET", ref)
    assert {"/queue", "/events", "/supervisor/audit", f"/transfers/payments/{ref}"} <= set(paths)
    for path in paths:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    assert client.get("/queue").headers["location"] == "/login?next=/queue"
    refused = [row for row in audit_rows(db) if row["outcome"] == "no_session"]
    assert len(refused) == len(paths) + 1 and {row["actor"] for row in refused} == {"-"}


def test_posts_without_a_session_or_csrf_token_are_refused(
    client: TestClient, db: redis.Redis
) -> None:
    ref = queue_transfer(db)
    paths = routes(client, "POST", ref)
    assert len(paths) == 5
    for path in paths:
        assert client.post(path, data={"reason": "x"}).status_code == 403, path
    assert login(client, "alice") == 303
    for path in paths:
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 403, path
        assert client.post(path, data={}).status_code == 403, path
    assert db.hgetall(f"voicepay:console:transfer:payments:{ref}") == {}
    assert sum(row["action"] == "csrf" for row in audit_rows(db)) == 2 * len(paths)
    assert client.get("/queue").status_code == 200, "still logged in after the refusals"


def test_login_itself_needs_the_form_token(client: TestClient) -> None:
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "voicepay_console" not in response.headers.get("set-cookie", "")


def test_an_agent_cannot_open_supervisor_pages_or_other_queues(
    client: TestClient, db: redis.Redis
) -> None:
    billing_ref = queue_transfer(db, queue="billing")
    assert login(client, "alice") == 303
    for path in ("/supervisor", "/supervisor/agents", "/supervisor/audit"):
        response = client.get(path)
        assert response.status_code == 403 and "Your role cannot see this page" in response.text
    assert client.get(f"/transfers/billing/{billing_ref}").status_code == 403
    token = csrf_of(client)
    accept = client.post(f"/transfers/billing/{billing_ref}/accept", data={"csrf_token": token})
    assert accept.status_code == 403
    denied = [(r["actor"], r["action"]) for r in audit_rows(db) if r["outcome"] == "denied"]
    assert denied == [
        ("alice", "view.supervisor"),
        ("alice", "view.agents"),
        ("alice", "view.audit"),
        ("alice", "view.transfer"),
        ("alice", "transfer.accept"),
    ]


def test_a_supervisor_sees_every_queue_agents_kpis_and_the_audit_log(
    client: TestClient, db: redis.Redis
) -> None:
    queue_transfer(db, queue="billing")
    assert login(client, "sam") == 303
    overview = client.get("/supervisor")
    assert overview.status_code == 200
    assert "billing" in overview.text and "payments" in overview.text
    assert "Card declined repeatedly" in overview.text
    agents = client.get("/supervisor/agents").text
    assert "alice" in agents and "sam" in agents
    audit = client.get("/supervisor/audit").text
    assert "view.supervisor" in audit and "view.audit" in audit
    assert "billing" in client.get("/queue").text


def test_cookies_are_secure_httponly_and_strict(redis_server: str, db: redis.Redis) -> None:
    add_user(redis_server, "alice", Role.AGENT, ["payments"])
    with client_for(redis_server, secure_cookies=True) as secure:
        secure.base_url = "https://testserver"
        page = secure.get("/login")
        login_cookie = page.headers["set-cookie"]
        assert login_cookie.startswith("__Host-voicepay_login=")
        match = CSRF.search(page.text)
        assert match is not None
        response = secure.post(
            "/login",
            data={"csrf_token": match.group(1), "username": "alice", "password": PASSWORD},
        )
        assert response.status_code == 303
        cookies = response.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("__Host-voicepay_console="))
        for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
            assert flag in session
        assert "Domain" not in session
        cleared = next(c for c in cookies if c.startswith("__Host-voicepay_login="))
        assert "Max-Age=0" in cleared and "Secure" in cleared


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in ("/login", "/static/console.css", "/queue"):
        response = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (path, name)


def test_failed_logins_lock_the_username(client: TestClient, db: redis.Redis) -> None:
    for _ in range(3):
        assert login(client, "alice", "wrong password!") == 401
    assert login(client, "alice") == 429
    assert login(client, "sam") == 303
    outcomes = [(r["action"], r["outcome"], r["target"]) for r in audit_rows(db)]
    assert outcomes.count(("login", "failed", "alice")) == 3
    assert ("login", "locked", "alice") in outcomes
    assert PASSWORD not in str(db.xrange("voicepay:audit"))


def test_login_never_redirects_off_site(client: TestClient) -> None:
    page = client.get("/login")
    match = CSRF.search(page.text)
    assert match is not None
    data = {"csrf_token": match.group(1), "username": "alice", "password": PASSWORD}
    response = client.post("/login", data={**data, "next": "//evil.example/x"})
    assert response.headers["location"] == "/queue"


def test_logout_ends_the_session(client: TestClient, db: redis.Redis) -> None:
    assert login(client, "alice") == 303
    cookie = client.cookies.get("voicepay_console")
    assert cookie
    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 303
    client.cookies.set("voicepay_console", cookie)
    assert client.get("/queue").status_code == 303
    assert [r["action"] for r in audit_rows(db)][-2:] == ["logout", "view.queue"]


def test_accept_dispose_and_rate_over_http_without_card_data(
    client: TestClient, db: redis.Redis
) -> None:
    ref = queue_transfer(db)
    assert login(client, "alice") == 303
    pages = [client.get("/queue").text]
    base = f"/transfers/payments/{ref}"
    detail = client.get(base)
    pages.append(detail.text)
    assert "Ada Lovelace" in detail.text and "visa •••• 4242" in detail.text
    assert "<svg" in detail.text and "[card data removed]" in detail.text
    token = csrf_of(client)

    accepted = client.post(f"{base}/accept", data={"csrf_token": token}, follow_redirects=True)
    pages.append(accepted.text)
    assert "You have the call" in accepted.text
    refused = client.post(
        f"{base}/disposition",
        data={"csrf_token": token, "outcome": "paid", "note": f"card {PAN}"},
    )
    assert refused.status_code == 409 and "card data" in refused.text
    pages.append(refused.text)
    bad = client.post(f"{base}/disposition", data={"csrf_token": token, "outcome": "maybe"})
    assert bad.status_code == 400
    done = client.post(
        f"{base}/disposition",
        data={"csrf_token": token, "outcome": "paid", "note": "took another card"},
        follow_redirects=True,
    )
    assert "Outcome recorded" in done.text
    rated = client.post(
        f"{base}/feedback",
        data={
            "csrf_token": token,
            "right_call": "yes",
            "score": "4",
            "missing": ["mood", "next_step"],
            "comment": "good brief",
        },
        follow_redirects=True,
    )
    pages.append(rated.text)
    assert "Thank you" in rated.text
    (feedback,) = [f for _, f in stream_entries(db.xrange("voicepay:handoff-feedback"))]
    assert (feedback["agent"], feedback["score"], feedback["missing"]) == (
        "alice",
        "4",
        "mood,next_step",
    )

    steps = [(r["action"], r["outcome"]) for r in audit_rows(db) if r["actor"] == "alice"]
    assert steps == [
        ("login", "ok"),
        ("view.queue", "ok"),
        ("view.transfer", "ok"),
        ("view.queue", "ok"),
        ("transfer.accept", "ok"),
        ("view.transfer", "ok"),
        ("transfer.disposition", "refused"),
        ("transfer.disposition", "invalid"),
        ("transfer.disposition", "ok"),
        ("view.transfer", "ok"),
        ("transfer.feedback", "ok"),
        ("view.transfer", "ok"),
    ]
    for text in pages:
        assert "4242 4242" not in text and not contains_luhn_run(text)
    assert "4242 4242" not in str(db.hgetall(f"voicepay:console:transfer:payments:{ref}"))
