"""The Open311 GeoReport v2 API at /open311/v2/: services, requests with the spec's filters,
one request, POST with an API key, the spec's errors, and no personal data anywhere."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree as ET

import aiohttp
import pytest
from sqlmodel import select

from bot import open311_web
from bot.services import api_keys, roles
from bot.services import petitions as service
from bot.web import build_web_app
from storage import clock
from storage.db import Database
from storage.models import ApiKey, InteractionLog, OutboxMessage, Petition
from tests.conftest import Clock
from tests.loopback import serve
from tests.open311_seed import (
    NOW,
    OLD_TEXT,
    PERSONAL,
    PUBLIC_ANSWER,
    PUBLIC_TEXT,
    TZ,
    Seeded,
    seed,
)

V2 = "/open311/v2"
FEEDBACK_TEXT = "Cột điện ở ngã ba chợ bị nghiêng sau cơn bão, rất nguy hiểm."


@dataclass
class Api:
    """The API served on loopback over the seeded database."""

    url: str
    db: Database
    seeded: Seeded
    key: str
    bodies: list[str]

    async def get(self, path: str, **params: str) -> tuple[int, str, str]:
        """GET a path under /open311/v2; (status, content type, body)."""
        async with aiohttp.ClientSession() as http, http.get(self.url + V2 + path,
                                                             params=params) as resp:
            text = await resp.text()
        self.bodies.append(text)
        return resp.status, resp.content_type, text

    async def json(self, path: str, **params: str) -> Any:
        """GET, expecting 200 and JSON."""
        status, kind, text = await self.get(path, **params)
        assert (status, kind) == (200, "application/json"), text
        return json.loads(text)

    async def post(self, path: str = "/requests.json", **kw: Any) -> tuple[int, Any]:
        """POST; (status, parsed JSON or the raw text)."""
        async with aiohttp.ClientSession() as http, http.post(self.url + V2 + path,
                                                              **kw) as resp:
            text = await resp.text()
        self.bodies.append(text)
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text


@pytest.fixture
async def api(demo_db: Database) -> AsyncIterator[Api]:
    Clock(NOW)
    seeded = await seed(demo_db)
    async with demo_db.session() as session:
        await roles.grant(session, "telegram", "900", "admin", actor="test")
        _row, key = await api_keys.create(session, "Kiosk UBND", "telegram:900", actor="test",
                                          now=NOW)
        await session.commit()
    app = build_web_app(demo_db)
    open311_web.mount(app, demo_db, TZ, "vi", clock.now)
    runner, url = await serve(app)
    try:
        yield Api(url, demo_db, seeded, key, [])
    finally:
        await runner.cleanup()


def _form(**values: str) -> dict[str, str]:
    return {"service_code": "lighting", "address_id": "khu-1", "description": FEEDBACK_TEXT,
            **values}


async def test_services_are_the_petition_fields_in_json_and_xml(api: Api):
    services = await api.json("/services.json")
    assert [s["service_code"] for s in services] == [
        "roads", "lighting", "environment", "land", "social", "security", "procedures",
        "other"]
    lighting = services[1]
    assert lighting == {
        "service_code": "lighting", "service_name": "Điện chiếu sáng",
        "description": lighting["description"], "metadata": True, "type": "realtime",
        "keywords": "", "group": "Phản ánh, kiến nghị"}
    assert "Điện chiếu sáng" in lighting["description"]
    assert (await api.json("/services.json", locale="en"))[1]["service_name"] == \
        "Street lighting"
    status, kind, text = await api.get("/services.xml")
    assert (status, kind) == (200, "text/xml")
    root = ET.fromstring(text)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")][:2] == [
        "roads", "lighting"]
    assert root.find("service/metadata").text == "true"


async def test_a_service_definition_offers_to_stay_anonymous(api: Api):
    definition = await api.json("/services/lighting.json")
    [attribute] = definition["attributes"]
    assert (definition["service_code"], attribute["code"], attribute["datatype"],
            attribute["required"]) == ("lighting", "anonymous", "singlevaluelist", False)
    assert [v["key"] for v in attribute["values"]] == ["false", "true"]
    status, _kind, text = await api.get("/services/lighting.xml")
    root = ET.fromstring(text)
    assert (status, root.tag) == (200, "service_definition")
    assert [v.findtext("key") for v in root.findall("attributes/attribute/values/value")] == [
        "false", "true"]
    status, _kind, text = await api.get("/services/nothing.json")
    assert (status, json.loads(text)) == (404, [{"code": 404,
                                                 "description": "unknown service_code nothing"}])


async def test_requests_show_feedback_only_at_hamlet_level(api: Api):
    seeded = api.seeded
    listed = await api.json("/requests.json")
    # Newest first; complaints and denunciations are never listed; the 100-day-old
    # feedback is outside the spec's default 90 days.
    assert [r["service_request_id"] for r in listed] == [seeded.anonymous, seeded.public]
    anonymous, public = listed
    assert public == {
        "service_request_id": seeded.public, "status": "closed",
        "status_notes": f"Đã trả lời: {PUBLIC_ANSWER}", "service_name": "Điện chiếu sáng",
        "service_code": "lighting", "description": PUBLIC_TEXT,
        "agency_responsible": "UBND xã Chi Lăng", "service_notice": None,
        "requested_datetime": (NOW - timedelta(days=3)).astimezone(
            public_tz()).isoformat(timespec="seconds"),
        "updated_datetime": public["updated_datetime"],
        "expected_datetime": public["expected_datetime"],
        "address": "Khu Thống Nhất", "address_id": "khu-2", "zipcode": None, "lat": None,
        "long": None, "media_url": None}
    assert public["requested_datetime"] == "2026-11-22T10:00:00+07:00"
    assert public["expected_datetime"].endswith("T23:59:59+07:00")
    # Anonymous feedback is listed with its status, never its content.
    assert (anonymous["status"], anonymous["description"], anonymous["status_notes"],
            anonymous["address_id"]) == ("open", None, "Đã tiếp nhận", "khu-3")


def public_tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(TZ)


async def test_requests_take_the_specs_filters_and_pages(api: Api):
    seeded = api.seeded

    async def ids(**params: str) -> list[str]:
        return [r["service_request_id"] for r in await api.json("/requests.json", **params)]

    assert await ids(service_code="lighting") == [seeded.public]
    assert await ids(service_code="security,lighting") == [seeded.anonymous, seeded.public]
    assert await ids(status="open") == [seeded.anonymous]
    assert await ids(status="closed") == [seeded.public]
    assert await ids(status="open,closed") == [seeded.anonymous, seeded.public]
    assert await ids(start_date="2026-08-01T00:00:00+07:00") == [
        seeded.anonymous, seeded.public, seeded.old]
    assert await ids(start_date="2026-08-01T00:00:00Z", end_date="2026-09-01T00:00:00Z") == [
        seeded.old]
    assert await ids(end_date="2026-11-23T00:00:00") == [seeded.public, seeded.old]
    assert await ids(start_date="2026-08-01", page_size="2") == [seeded.anonymous,
                                                                 seeded.public]
    assert await ids(start_date="2026-08-01", page_size="2", page="2") == [seeded.old]
    assert await ids(start_date="2026-08-01", page_size="2", page="3") == []
    # service_request_id overrides the other filters; complaints stay hidden.
    assert await ids(service_request_id=f"{seeded.old},{seeded.complaint}",
                     status="closed") == [seeded.old]
    old = (await api.json(f"/requests/{seeded.old}.json"))[0]
    assert (old["description"], old["status"]) == (OLD_TEXT, "open")


async def test_one_request_by_id_in_json_and_xml(api: Api):
    seeded = api.seeded
    [one] = await api.json(f"/requests/{seeded.public}.json")
    assert (one["service_request_id"], one["description"]) == (seeded.public, PUBLIC_TEXT)
    assert (await api.json(f"/requests/{seeded.public.lower()}.json"))[0] == one
    status, kind, text = await api.get(f"/requests/{seeded.public}.xml")
    root = ET.fromstring(text)
    assert (status, kind, root.tag) == (200, "text/xml", "service_requests")
    request = root.find("request")
    assert (request.findtext("service_request_id"), request.findtext("status"),
            request.findtext("description"), request.findtext("lat")) == (
        seeded.public, "closed", PUBLIC_TEXT, "")
    for code in (seeded.complaint, seeded.denunciation, "PA-2026-999999"):
        status, _kind, text = await api.get(f"/requests/{code}.json")
        assert (status, json.loads(text)) == (
            404, [{"code": 404, "description": f"no service request {code}"}])
    status, _kind, text = await api.get(f"/requests/{seeded.complaint}.xml")
    error = ET.fromstring(text)
    assert (status, error.tag, error.findtext("error/code"),
            error.findtext("error/description")) == (
        404, "errors", "404", f"no service request {seeded.complaint}")


@pytest.mark.parametrize(("path", "params", "code", "description"), [
    ("/requests.json", {"service_code": "nothing"}, 400, "unknown service_code nothing"),
    ("/requests.json", {"status": "pending"}, 400, "status must be open or closed"),
    ("/requests.json", {"start_date": "yesterday"}, 400,
     "start_date must be a W3C date and time, e.g. 2026-11-01T00:00:00+07:00"),
    ("/requests.json", {"start_date": "2026-11-02", "end_date": "2026-11-01"}, 400,
     "start_date is after end_date"),
    ("/requests.json", {"page": "0"}, 400, "page must be a whole number from 1 to 1000000"),
    ("/requests.json", {"page_size": "5000"}, 400,
     "page_size must be a whole number from 1 to 1000"),
    ("/requests.json", {"page_size": "-3"}, 400,
     "page_size must be a whole number from 1 to 1000"),
    ("/requests.json", {"start_date": "0001-01-01T00:00:00+07:00"}, 400,
     "start_date is out of range"),
    ("/requests.json", {"service_request_id": "PA\x002026"}, 400,
     "the request holds a NUL character"),
    ("/requests/PA\x00.json", {}, 400, "the request holds a NUL character"),
    ("/requests.csv", {}, 404, "no such resource /open311/v2/requests.csv"),
    ("/tokens/1.json", {}, 404, "no such resource /open311/v2/tokens/1.json"),
])
async def test_bad_queries_get_the_specs_errors(api: Api, path: str, params: dict[str, str],
                                                code: int, description: str):
    status, kind, text = await api.get(path, **params)
    assert (status, kind, json.loads(text)) == (
        code, "application/json", [{"code": code, "description": description}])
    if path.endswith(".json"):
        status, kind, text = await api.get(path.replace(".json", ".xml"), **params)
        root = ET.fromstring(text)
        assert (status, kind, root.tag, root.findtext("error/code"),
                root.findtext("error/description")) == (
            code, "text/xml", "errors", str(code), description.replace(".json", ".xml"))


async def _petitions(db: Database) -> list[Petition]:
    async with db.session() as session:
        return list((await session.exec(select(Petition).order_by(Petition.id))).all())


async def test_a_kiosk_files_feedback_that_staff_see_like_any_petition(api: Api):
    before = len(await _petitions(api.db))
    status, body = await api.post(data=_form(api_key=api.key, address_string="Ngã ba chợ",
                                             first_name="Đỗ", last_name="Văn Tám",
                                             phone="0966 555 444", email="tam@example.vn"))
    [answer] = body
    petitions = await _petitions(api.db)
    [new] = petitions[before:]
    assert status == 200
    assert answer == {"service_request_id": new.code, "account_id": None,
                      "service_notice": answer["service_notice"]}
    assert answer["service_notice"] == "Đã tiếp nhận. UBND xã sẽ trả lời chậm nhất ngày " \
        f"{new.answer_due:%d/%m/%Y}."
    assert (new.kind, new.field, new.user_id, new.anonymous, new.status, new.address) == (
        "feedback", "lighting", None, False, "received", "Ngã ba chợ")
    assert new.code.startswith("PA-2026-")
    async with api.db.session() as session:
        outbox = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "staff"))).all()
        log = (await session.exec(select(InteractionLog).where(
            InteractionLog.kind.in_(("api_key_used", "petition_received")))
            .order_by(InteractionLog.id))).all()
        [key] = (await session.exec(select(ApiKey))).all()
    # The staff desk gets the card with its buttons, as for a petition sent in a chat.
    cards = {(m.channel, m.chat_id): m for m in outbox if new.code in m.text}
    assert {("telegram", "800900777"), ("telegram", "900")} <= set(cards)
    card = cards["telegram", "800900777"]
    assert FEEDBACK_TEXT in card.text and card.buttons
    assert [(e.kind, e.channel, e.actor) for e in log[-2:]] == [
        ("api_key_used", "open311", f"api-key:{key.id}"),
        ("petition_received", "open311", "resident")]
    assert (key.uses, key.last_used_at) == (1, NOW)
    [listed] = await api.json(f"/requests/{new.code}.json")
    assert (listed["description"], listed["address"], listed["status"]) == (
        FEEDBACK_TEXT, "Khu Hòa Bình", "open")
    # Staff answer it like any petition; the API shows the answer.
    async with api.db.session() as session:
        await service.answer(session, await session.get(Petition, new.id),
                             "Điện lực đã dựng lại cột điện sáng 26/11.",
                             actor="telegram:800900777", now=NOW, timezone=TZ)
        await session.commit()
    [answered] = await api.json(f"/requests/{new.code}.json")
    assert (answered["status"], answered["status_notes"]) == (
        "closed", "Đã trả lời: Điện lực đã dựng lại cột điện sáng 26/11.")
    # JSON bodies and XML answers work too; anonymous feedback keeps its content private.
    status, body = await api.post("/requests.xml", json=_form(
        api_key=api.key, lat="21.84", long="106.6", **{"attribute[anonymous]": "true"}))
    root = ET.fromstring(body)
    code = root.findtext("request/service_request_id")
    assert (status, root.tag, code[:8]) == (200, "service_requests", "PA-2026-")
    [hidden] = await api.json(f"/requests/{code}.json")
    assert (hidden["description"], hidden["lat"]) == (None, None)
    assert len(await _petitions(api.db)) == before + 2


@pytest.mark.parametrize(("kw", "code", "description"), [
    ({"data": _form()}, 403, "api_key is missing, unknown or revoked"),
    ({"data": _form(api_key="guessed-key")}, 403, "api_key is missing, unknown or revoked"),
    ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400,
     "the body is not valid JSON"),
    ({"json": ["lighting"]}, 400, "the body must be a JSON object"),
    ({"data": b"--x\r\nbroken", "headers": {"Content-Type": "multipart/form-data; boundary=y"}},
     400, "the form cannot be read"),
    ({"data": b"a=b", "headers": {"Content-Type": "text/plain"}}, 400,
     "unsupported content type text/plain"),
    ({"data": {"api_key": "KEY", "description": FEEDBACK_TEXT, "address_id": "khu-1"}}, 400,
     "service_code is required"),
    ({"data": _form(api_key="KEY", service_code="potholes")}, 400,
     "unknown service_code potholes"),
    ({"data": _form(api_key="KEY", address_id="")}, 400,
     "a location is required: lat and long, address_string or address_id"),
    ({"data": _form(api_key="KEY", address_id="khu-99")}, 400, "unknown address_id khu-99"),
    ({"data": _form(api_key="KEY", lat="21.8")}, 400, "lat and long go together"),
    ({"data": _form(api_key="KEY", lat="north", long="106")}, 400, "lat must be a number"),
    ({"data": _form(api_key="KEY", lat="21", long="500")}, 400, "long is out of range"),
    ({"data": _form(api_key="KEY", description=" x ")}, 400,
     "description must have at least 2 characters"),
    ({"data": _form(api_key="KEY", description="x" * 4001)}, 400,
     "description may have at most 4000 characters"),
    ({"data": _form(api_key="KEY", **{"attribute[anonymous]": "maybe"})}, 400,
     "attribute[anonymous] must be true or false"),
    ({"data": _form(api_key="KEY", description="Đèn hỏng\x00 ở ngã ba chợ")}, 400,
     "the request holds a NUL character"),
    ({"data": '{"api_key": "k", "description": "\\ud800 lone surrogate"}',
      "headers": {"Content-Type": "application/json"}}, 400,
     "the request holds text that is not UTF-8"),
    ({"data": _form(api_key="KEY", description="x" * 70000)}, 413,
     "the request is larger than 65536 bytes"),
])
async def test_bad_posts_get_the_specs_errors_and_file_nothing(
        api: Api, kw: dict[str, Any], code: int, description: str):
    before = len(await _petitions(api.db))
    if isinstance(kw.get("data"), dict) and kw["data"].get("api_key") == "KEY":
        kw = {**kw, "data": {**kw["data"], "api_key": api.key}}
    status, body = await api.post(**kw)
    assert (status, body) == (code, [{"code": code, "description": description}])
    status, body = await api.post("/requests.xml", **kw)
    root = ET.fromstring(body)
    assert (status, root.findtext("error/code"), root.findtext("error/description")) == (
        code, str(code), description)
    assert len(await _petitions(api.db)) == before


async def test_the_discovery_file_names_the_endpoint_and_the_communes_contact(api: Api):
    discovery = await api.json("/discovery.json")
    assert discovery["contact"] == "motcua@chilang.example.vn, 0205 3820 000"
    [endpoint] = discovery["endpoints"]
    assert (endpoint["url"], endpoint["specification"], endpoint["formats"]) == (
        api.url + V2, "http://wiki.open311.org/GeoReport_v2", ["text/xml", "application/json"])
    status, _kind, text = await api.get("/discovery.xml")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><discovery>')
    root = ET.fromstring(text)
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml", "application/json"]


async def test_the_api_key_may_come_in_the_query_string(api: Api):
    status, body = await api.post(f"/requests.json?api_key={api.key}", data=_form())
    assert (status, body[0]["service_request_id"][:8]) == (200, "PA-2026-")


async def test_a_key_files_at_most_its_daily_limit(api: Api, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(api_keys, "DAILY_LIMIT", 2)
    for _ in range(2):
        assert (await api.post(data=_form(api_key=api.key)))[0] == 200
    status, body = await api.post(data=_form(api_key=api.key))
    assert (status, body) == (429, [{"code": 429, "description": "this api_key has filed 2 "
                                     "requests in the last 24 hours; try later"}])
    Clock(NOW + timedelta(hours=24, seconds=1))
    assert (await api.post(data=_form(api_key=api.key)))[0] == 200
    async with api.db.session() as session:
        kinds = [e.kind for e in (await session.exec(select(InteractionLog).where(
            InteractionLog.channel == "open311", InteractionLog.direction == "in"))).all()]
    assert kinds == ["api_key_used", "api_key_used", "api_key_limited", "api_key_used"]


async def test_a_revoked_key_is_refused_and_the_attempt_logged(api: Api):
    async with api.db.session() as session:
        [key] = (await session.exec(select(ApiKey))).all()
        await api_keys.revoke(session, key.id, actor="cli:test", now=NOW)
        await session.commit()
    status, body = await api.post(data=_form(api_key=api.key))
    assert (status, body) == (403, [{"code": 403,
                                     "description": "api_key is missing, unknown or revoked"}])
    async with api.db.session() as session:
        kinds = [e.kind for e in (await session.exec(select(InteractionLog).where(
            InteractionLog.actor == f"api-key:{key.id}"))).all()]
    assert kinds == ["api_key_refused"]


async def test_no_personal_data_appears_in_any_response(api: Api):
    seeded = api.seeded
    codes = (seeded.public, seeded.anonymous, seeded.complaint, seeded.denunciation,
             seeded.old, "PA-2026-999999")
    for fmt in ("json", "xml"):
        await api.get(f"/discovery.{fmt}")
        await api.get(f"/services.{fmt}")
        await api.get(f"/services/lighting.{fmt}")
        for params in ({}, {"start_date": "2025-01-01"}, {"status": "open"},
                       {"service_request_id": ",".join(codes)}, {"service_code": "land"},
                       {"service_code": "nothing"}):
            await api.get(f"/requests.{fmt}", **params)
        for code in codes:
            await api.get(f"/requests/{code}.{fmt}")
        await api.post(f"/requests.{fmt}", data=_form(api_key=api.key))
        await api.post(f"/requests.{fmt}", data=_form(api_key="wrong"))
    everything = "\n".join(api.bodies)
    assert PUBLIC_TEXT in everything and seeded.complaint in everything  # the search works
    assert [needle for needle in PERSONAL if needle and needle in everything] == []
