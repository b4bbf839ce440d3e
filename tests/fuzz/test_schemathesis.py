"""Schemathesis against Folio's own OpenAPI schema, in-process, as an admin and as a viewer.

Every operation in the schema is fuzzed with valid and invalid input: no answer may be a
5xx, every answer's status code, content type, headers and body must be the ones the schema
documents, and an operation that declares authentication must refuse a request without it
or with a bad token (401/403). The stateful phase then chains calls through the links
schemathesis infers (a booked trade's id into its read and cancel, a created portfolio's
slug into its routes).

The desk is real: a PostgreSQL database of the module's own, Redis, users, and three
portfolios the viewer can see (one to book into, one to archive and rename, one to value).
Path parameters resolve to them most of the time, so the fuzzer reaches the routes behind
the portfolio and trade lookups instead of seeing only 404s. Every case is signed in, by
the auth cookie (with the CSRF double submit) or by the bearer token, in turn.

`--fuzz-examples N` (default in conftest.py; `make fuzz` uses 500) sets the examples per
operation and persona, and the number of stateful scenarios.
"""

import asyncio
import itertools
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import hypothesis
import jsonschema_rs
import pytest
import redis
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import make_url

from app.auth.dependencies import AUTH_COOKIE, CSRF_COOKIE, CSRF_HEADER
from app.auth.permissions import Role
from app.cli.db import upgrade_to_head
from app.core.database import create_engine, create_sessionmaker
from app.main import create_app
from app.users.models import User
from tests.conftest import REDIS_URL, SERVER_URL, _admin, make_settings
from tests.factories import bearer, make_portfolio, make_team, make_user
from tests.fuzz import conftest
from tests.fuzz.conftest import TALLY
from tests.trades.helpers import trade

# Signing out revokes the token it is sent with: those calls get a fresh token each.
SIGN_OUT = {"/auth/jwt/logout", "/auth/cookie/logout"}
# Operations that change a portfolio itself go to a scratch portfolio, so the fuzzer's
# archiving, renaming and team changes do not take the main one away from the viewer.
ON_SCRATCH = {
    ("PATCH", "/portfolios/{slug}"),
    ("DELETE", "/portfolios/{slug}"),
    ("POST", "/portfolios/{slug}/members"),
    ("DELETE", "/portfolios/{slug}/members/{user_id}"),
}
# Valuation and performance read a portfolio the fuzzer does not book into: its random
# back-dated trades (as early as 1970) would make every NAV series start in 1970, several
# seconds of work each time a booking invalidates it.
ON_REPORTS = {
    ("GET", "/portfolios/{slug}/valuation"),
    ("GET", "/portfolios/{slug}/performance"),
}
REAL_VALUE_SHARE = 0.9
STATEFUL_RESTARTS = 3
STAND_IN = "stand-in-for-"
CSRF = "fuzz-csrf-token"


# The app exists at import, so schemathesis can collect one test per operation; its
# lifespan (engine, cache, market data) starts in the `desk` fixture, on this database.
DATABASE_NAME = f"folio_fuzz_{uuid.uuid4().hex[:12]}"
DATABASE_URL = make_url(SERVER_URL).set(database=DATABASE_NAME).render_as_string(False)
SETTINGS = make_settings(database_url=DATABASE_URL, redis_url=REDIS_URL)
APP = create_app(SETTINGS)
EXAMPLES = conftest.EXAMPLES


@dataclass(frozen=True)
class Desk:
    """What the fuzzer is let loose on."""

    tokens: dict[str, str]
    users: dict[str, Any]
    main_slug: str
    scratch_slug: str
    reports_slug: str
    trade_ids: tuple[int, ...]
    spare_user_ids: tuple[str, ...]

    @property
    def protected_user_ids(self) -> set[str]:
        return {str(self.users[name].id) for name in ("admin", "viewer", "pm")}

    def fresh_token(self, persona: str) -> str:
        """A token for the persona as the account stands now (the fuzzer may have changed
        its password, which ends every earlier session)."""
        headers = asyncio.run(_bearer_now(self.users[persona].id))
        return headers["Authorization"].removeprefix("Bearer ")


async def _bearer_now(user_id: uuid.UUID) -> dict[str, str]:
    engine = create_engine(SETTINGS)
    try:
        async with create_sessionmaker(engine)() as session:
            user = await session.get(User, user_id)
            assert user is not None
            return await bearer(APP, user)
    finally:
        await engine.dispose()


_DESK: list[Desk] = []


def current_desk() -> Desk:
    assert _DESK, "the `desk` fixture sets the desk up"
    return _DESK[0]


async def _seed_people() -> dict[str, Any]:
    engine = create_engine(SETTINGS)
    async with create_sessionmaker(engine)() as session:
        team = await make_team(session)
        pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
        people: dict[str, Any] = {
            "admin": await make_user(session, Role.ADMIN),
            "viewer": await make_user(session, Role.VIEWER, team=team),
            "pm": pm,
            "main": await make_portfolio(session, pm, team=team),
            "scratch": await make_portfolio(session, pm, team=team),
            "reports": await make_portfolio(session, pm, team=team),
            "spares": [await make_user(session, Role.ANALYST, team=team) for _ in range(3)],
        }
    await engine.dispose()
    return people


def _seed_books(slug: str, token: str) -> list[int]:
    """A deposit and a few trades booked through the API, so reads have something to read."""
    headers = {"Authorization": f"Bearer {token}"}
    with asgi.get_client(APP) as client:
        deposit = {"type": "deposit", "amount": "1000000", "date": "2025-01-02"}
        response = client.post(f"/portfolios/{slug}/cash", json=deposit, headers=headers)
        assert response.status_code == 201, response.text
        ids = []
        for ticker, day in (("AAPL", "2025-01-06"), ("MSFT", "2025-01-07"), ("AAPL", "2025-02-03")):
            body = trade(ticker=ticker, trade_date=day, quantity="10", price="150")
            response = client.post(f"/portfolios/{slug}/trades", json=body, headers=headers)
            assert response.status_code == 201, response.text
            ids.append(int(response.json()["id"]))
    return ids


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    asyncio.run(_admin(f'CREATE DATABASE "{DATABASE_NAME}"'))
    try:
        upgrade_to_head(DATABASE_URL)
        with asgi.get_client(APP):  # starts the lifespan; it lives until the module ends
            pass
        people = asyncio.run(_seed_people())
        users = {name: people[name] for name in ("admin", "viewer", "pm")}
        tokens = {
            name: asyncio.run(bearer(APP, user))["Authorization"].removeprefix("Bearer ")
            for name, user in users.items()
        }
        _seed_books(people["reports"].slug, tokens["admin"])
        _DESK.append(
            Desk(
                tokens=tokens,
                users=users,
                main_slug=people["main"].slug,
                scratch_slug=people["scratch"].slug,
                reports_slug=people["reports"].slug,
                trade_ids=tuple(_seed_books(people["main"].slug, tokens["admin"])),
                spare_user_ids=tuple(str(u.id) for u in people["spares"]),
            )
        )
        yield _DESK[0]
    finally:
        _DESK.clear()
        asgi.shutdown_lifespans()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)'))


def _point_at_the_desk(case: schemathesis.Case, pick: int) -> None:
    """Make path parameters name real objects (most of the time), never the personas."""
    desk = current_desk()
    params = case.path_parameters
    if not params or (case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)):
        return
    real = pick < REAL_VALUE_SHARE * 100
    method = case.method.upper()
    if "slug" in params and real:
        if (method, case.path) in ON_SCRATCH:
            params["slug"] = desk.scratch_slug
        elif (method, case.path) in ON_REPORTS:
            params["slug"] = desk.reports_slug
        else:
            params["slug"] = desk.main_slug
    if "trade_id" in params and real:
        params["trade_id"] = desk.trade_ids[pick % len(desk.trade_ids)]
    if "user_id" in params and (real or str(params["user_id"]) in desk.protected_user_ids):
        params["user_id"] = desk.spare_user_ids[pick % len(desk.spare_user_ids)]


def _spare_the_personas(case: schemathesis.Case) -> None:
    """A linked call must not deactivate, re-role or move the users the fuzzer signs in as,
    nor archive or hand over the main and reports portfolios, nor book into the latter."""
    desk = current_desk()
    params = case.path_parameters
    if not params:
        return
    if str(params.get("user_id")) in desk.protected_user_ids:
        params["user_id"] = desk.spare_user_ids[0]
    if params.get("slug") in (desk.main_slug, desk.reports_slug):
        operation = (case.method.upper(), case.path)
        if operation in ON_SCRATCH:
            params["slug"] = desk.scratch_slug
        elif operation in ON_REPORTS:
            params["slug"] = desk.reports_slug
        else:
            params["slug"] = desk.main_slug


def _record(case: schemathesis.Case, status: int, *, stateful: bool = False) -> None:
    TALLY.operations.add(case.operation.label)
    TALLY.statuses[status] += 1
    TALLY.server_errors += status >= 500
    if stateful:
        TALLY.stateful_calls += 1
    else:
        TALLY.cases += 1


def _validate(case: schemathesis.Case, response: schemathesis.Response, label: str) -> None:
    sent = (case.headers or {}).get("Authorization")
    # Naming the bearer header as sent tells `ignored_auth` the credential is not one of the
    # schema's (it only probes the cookie); `bearer_is_enforced` probes the header instead.
    headers = {"Authorization": sent} if sent else None
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except BaseException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        TALLY.failures.add(f"{label}{case.operation.label}: {first}")
        raise


def persona_schema(persona: str) -> Any:
    """The app's schema, every case signed in as PERSONA, by cookie or by bearer in turn."""
    schema = schemathesis.openapi.from_dict(APP.openapi())
    schema.app = APP
    schema.location = "/openapi.json"
    # Unknown query parameters are ignored, as HTTP APIs do; not a schema violation.
    schema.config.generation.update(max_examples=EXAMPLES, allow_extra_parameters=False)
    transports = itertools.cycle(("cookie", "bearer"))

    class Persona:
        def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str:
            # Examples and coverage cases are built at collection, before the desk exists:
            # they carry a stand-in that `sign_in` replaces just before the call.
            if not _DESK:
                return f"{STAND_IN}{persona}"
            return token_for(persona, case)

        def set(self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext) -> None:
            if next(transports) == "bearer":
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
                return
            # The dashboard's way: the auth cookie, and for writes the CSRF double submit.
            case.cookies = {**(case.cookies or {}), AUTH_COOKIE: data, CSRF_COOKIE: CSRF}
            case.headers = {**(case.headers or {}), CSRF_HEADER: CSRF}

    schema.auth(refresh_interval=None)(Persona)

    @schema.hook
    def filter_failure(
        context: schemathesis.HookContext,
        failure: Any,
        case: schemathesis.Case,
        response: schemathesis.Response,
    ) -> bool:
        return not is_a_known_leniency(failure, case, response)

    return schema


NEGATED_QUERY = re.compile(r"Invalid component: parameters? ((?:`[^`]+`(?:, )?)+) in query")


def is_a_known_leniency(
    failure: Any, case: schemathesis.Case, response: schemathesis.Response
) -> bool:
    """Invalid input that is accepted by design, and so not reported again: a query
    parameter is read as FastAPI reads it off the wire (the last of its values, its default
    when absent); if that reading fits the schema, nothing invalid was read."""
    if type(failure).__name__ != "AcceptedNegativeData":
        return False
    message = getattr(failure, "message", "") or ""
    query = NEGATED_QUERY.search(message)
    if query is None:
        return False
    read = parse_qs(urlsplit(str(response.request.url)).query, keep_blank_values=True)
    names = re.findall(r"`([^`]+)`", query[1])
    return all(_read_fits(case, name, read.get(name)) for name in names)


def _read_fits(case: schemathesis.Case, name: str, values: list[str] | None) -> bool:
    if not values:
        return not _required(case, name)
    value = values[-1]
    return any(
        jsonschema_rs.validator_for(option).is_valid(_as_read(value, option))
        for option in _declared(case, name) or []
    )


def _required(case: schemathesis.Case, name: str) -> bool:
    operation = APP.openapi()["paths"][case.path][case.method.lower()]
    return any(p["name"] == name and p.get("required") for p in operation.get("parameters", []))


def _as_read(value: Any, schema: dict[str, Any]) -> Any:
    """A query string value as the declared type reads it."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    try:
        if schema.get("type") == "integer":
            return int(text)
        if schema.get("type") == "number":
            return float(text)
    except ValueError:
        return text
    if schema.get("type") == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text


def _declared(case: schemathesis.Case, name: str) -> list[dict[str, Any]] | None:
    """The schema options (anyOf flattened, null left out) declared for a query parameter."""
    document = APP.openapi()
    operation = document["paths"][case.path][case.method.lower()]
    found = [p["schema"] for p in operation.get("parameters", []) if p["name"] == name]
    if not found:
        return None
    options = found[0].get("anyOf", [found[0]])
    schemas = document["components"]["schemas"]
    resolved = [schemas[o["$ref"].rsplit("/", 1)[-1]] if "$ref" in o else o for o in options]
    return [o for o in resolved if o.get("type") != "null"]


def token_for(persona: str, case: schemathesis.Case) -> str:
    desk = current_desk()
    return desk.fresh_token(persona) if case.path in SIGN_OUT else desk.tokens[persona]


def sign_in(case: schemathesis.Case) -> None:
    """Swap a stand-in token for the persona's (a fresh one for sign-out)."""
    headers, cookies = case.headers or {}, case.cookies or {}
    bearer_value = str(headers.get("Authorization", ""))
    if bearer_value.startswith(f"Bearer {STAND_IN}"):
        persona = bearer_value.removeprefix(f"Bearer {STAND_IN}")
        headers["Authorization"] = f"Bearer {token_for(persona, case)}"
    cookie_value = str(cookies.get(AUTH_COOKIE, ""))
    if cookie_value.startswith(STAND_IN):
        cookies[AUTH_COOKIE] = token_for(cookie_value.removeprefix(STAND_IN), case)


@schemathesis.check
def bearer_is_enforced(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """`ignored_auth` for the bearer token, which schemathesis does not see as a credential
    (an OAuth2 scheme): a 2xx with one must be 401 without it and with a forged one."""
    sent = str((case.headers or {}).get("Authorization", ""))
    secured = case.operation.definition.raw.get("security")
    if not (200 <= response.status_code < 300 and secured):
        return None
    if not sent.startswith("Bearer "):
        TALLY.auth_checked.add(f"{case.operation.label} (cookie)")  # ignored_auth probes it
        return None
    key = f"{case.operation.label} (bearer)"
    if key in TALLY.auth_checked:
        return None
    TALLY.auth_checked.add(key)
    for forged in (None, "Bearer not-a-token", f"Bearer {sent[7:-4]}AAAA"):
        headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
        if forged is not None:
            headers["Authorization"] = forged
        probe = case.derive(headers=CaseInsensitiveDict(headers), cookies={})
        answer = probe.call()
        if answer.status_code not in (401, 403):
            raise AssertionError(
                f"{case.operation.label} answered {answer.status_code} to "
                f"{'no bearer token' if forged is None else 'a forged bearer token'}"
            )
    return None


CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    bearer_is_enforced,
]
PERSONAS = ("admin", "viewer")
SCHEMAS = {persona: persona_schema(persona) for persona in PERSONAS}


@schemathesis.pytest.parametrize(**SCHEMAS)
def test_every_operation_answers_as_documented(case: schemathesis.Case, desk: Desk) -> None:
    sign_in(case)
    _point_at_the_desk(case, random.Random(case.id).randrange(100))
    try:
        response = case.call()
    except Exception as exc:
        # An unhandled exception in the app reaches the in-process client as itself: a 500.
        _record(case, 500)
        TALLY.failures.add(f"{case.operation.label}: 500 {type(exc).__name__}: {exc}")
        raise
    _record(case, response.status_code)
    _validate(case, response, "")


@pytest.mark.parametrize("persona", PERSONAS)
def test_linked_calls_answer_as_documented(desk: Desk, persona: str) -> None:
    class Workflow(SCHEMAS[persona].as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            _spare_the_personas(case)

        def after_call(self, response: schemathesis.Response, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            _record(case, response.status_code, stateful=True)

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case,
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            _validate(case, response, "stateful ")

    settings = hypothesis.settings(
        max_examples=max(EXAMPLES, 5),
        stateful_step_count=10,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate],
    )
    known = set(TALLY.failures)
    for _ in range(STATEFUL_RESTARTS):
        try:
            Workflow.run(settings=settings)
            return
        except hypothesis.errors.Flaky:
            # Which links can be followed depends on what the desk holds, which earlier
            # scenarios changed: Hypothesis calls that flaky. A check that failed is
            # recorded before that, and is the real finding; otherwise start again.
            found = sorted(set(TALLY.failures) - known)
            assert not found, "\n".join(found)


def test_every_operation_was_fuzzed(desk: Desk, request: pytest.FixtureRequest) -> None:
    if request.config.option.keyword or request.config.option.markexpr:
        pytest.skip("only meaningful when every fuzz test ran")
    documented = {
        f"{method.upper()} {path}"
        for path, operations in APP.openapi()["paths"].items()
        for method in operations
    }
    assert documented - TALLY.operations == set()


@pytest.mark.parametrize("lenient", ["a number for a date", "1 for a boolean"])
def test_request_values_are_read_strictly(desk: Desk, lenient: str) -> None:
    with asgi.get_client(APP) as client:
        if lenient == "a number for a date":
            headers = {"Authorization": f"Bearer {desk.fresh_token('viewer')}"}
            response = client.get(f"/portfolios/{desk.main_slug}/trades?start=0", headers=headers)
        else:
            headers = {"Authorization": f"Bearer {desk.fresh_token('admin')}"}
            url = f"/admin/users/{desk.spare_user_ids[-1]}"
            response = client.patch(url, json={"is_active": 1}, headers=headers)
    assert response.status_code == 422, response.text
