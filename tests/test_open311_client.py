"""Existing Open311 clients from PyPI against `python -m bot run`'s HTTP server.

georeport (0.3.1, 2025, Python 3) is the maintained GeoReport v2 client: it reads services
and requests in JSON and XML, and has no call to post. three (0.8.0, Code for America) reads
and posts; it was written for Python 2 and its one Python-2-only name is
`itertools.ifilter`, which `_three()` provides before importing it — not a line of the
library is changed. (open311 1.1, the other posting client, cannot be imported on Python 3.)
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import requests
from georeport import GeoReport
from sqlmodel import select

from bot import server
from bot.app import App, build
from bot.config import Settings
from bot.services import api_keys, commune_setup, roles
from storage.models import Petition
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.open311_seed import NOW, PUBLIC_TEXT, Seeded, seed

KIOSK_TEXT = "Cống thoát nước trước nhà văn hoá khu 3 bị tắc, nước tràn ra đường."
FEEDBACK_TEXT = "Biển báo giao thông ở dốc Đồng Mỏ bị đổ, xe qua lại rất nguy hiểm."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Running:
    """The bot running with its HTTP server on `port`."""

    app: App
    base: str
    seeded: Seeded
    key: str


async def _healthy(base: str) -> None:
    for _ in range(250):
        try:
            async with aiohttp.ClientSession() as http, http.get(base + "/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.02)
    raise AssertionError("the HTTP server did not start")


@pytest.fixture
async def running(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    Clock(NOW)
    fake = await FakeTelegram("42:RUN").start()
    port = _free_port()
    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'run.db'}", data_dir=tmp_path,
        telegram_bot_token="42:RUN", telegram_api_url=fake.url, http_port=port,
        **getattr(request, "param", {}),
    )
    app = build(settings)
    await app.prepare()
    async with app.db.session() as session:
        await commune_setup.apply(session, commune_setup.read(commune_setup.DEMO_FILE), "test")
        await roles.grant(session, "telegram", "900", "admin", actor="test")
        _row, key = await api_keys.create(session, "Ứng dụng đối tác", "telegram:900",
                                          actor="test", now=NOW)
        await session.commit()
    seeded = await seed(app.db)
    stop = asyncio.Event()
    serving = asyncio.create_task(server.serve(app, stop))
    base = f"http://127.0.0.1:{port}"
    try:
        await _healthy(base)
        yield Running(app, base, seeded, key)
    finally:
        stop.set()
        await serving
        await app.close()
        await fake.stop()


async def test_the_georeport_client_reads_and_a_partner_posts(running: Running):
    api = running.base + "/open311/v2"
    client = GeoReport(api)
    services = await asyncio.to_thread(client.get_service_list)
    assert ("lighting", "Điện chiếu sáng") in [(s["service_code"], s["service_name"])
                                              for s in services]
    listed = await asyncio.to_thread(client.get_service_requests, status="closed")
    assert [(r["service_request_id"], r["description"]) for r in listed] == [
        (running.seeded.public, PUBLIC_TEXT)]
    in_xml = await asyncio.to_thread(GeoReport(api, output_format="xml").get_service_requests,
                                     start_date="2026-08-01T00:00:00+07:00",
                                     service_code="environment")
    assert in_xml["service_request_id"] == running.seeded.old  # xmltodict: one is a dict
    definition = await asyncio.to_thread(client.get_service_definition, "lighting")
    assert definition["attributes"][0]["code"] == "anonymous"

    def post() -> requests.Response:
        return requests.post(api + "/requests.json", timeout=10, data={
            "api_key": running.key, "service_code": "roads", "address_id": "khu-3",
            "description": FEEDBACK_TEXT, "first_name": "Đinh", "last_name": "Văn Hải"})

    response = await asyncio.to_thread(post)
    assert response.status_code == 200, response.text
    [filed] = response.json()
    one = await asyncio.to_thread(client.get_service_request, filed["service_request_id"])
    assert (one["service_code"], one["description"], one["address"], one["status"]) == (
        "roads", FEEDBACK_TEXT, "Khu Đồng Mỏ", "open")
    assert "Đinh" not in str(one)
    with pytest.raises(requests.HTTPError) as refused:
        await asyncio.to_thread(client.get_service_request, running.seeded.complaint)
    assert refused.value.response.status_code == 404


def _three(endpoint: str, key: str):
    """A `three.Three` client for our API (Python 2's itertools.ifilter is Python 3's filter)."""
    if not hasattr(itertools, "ifilter"):
        itertools.ifilter = filter  # type: ignore[attr-defined]
    import three

    return three.Three(endpoint, api_key=key, format="json")


async def test_the_three_client_reads_and_posts_a_request(running: Running):
    client = _three(running.base + "/open311/v2/", running.key)
    services = await asyncio.to_thread(client.services)
    assert "roads" in [s["service_code"] for s in services]
    listed = await asyncio.to_thread(client.requests, "lighting", status="closed")
    assert [r["service_request_id"] for r in listed] == [running.seeded.public]

    filed = await asyncio.to_thread(client.post, "roads", address="Khu 3",
                                    address_id="khu-3", description=KIOSK_TEXT)
    assert client.post_response.status_code == 200, client.post_response.text
    [receipt] = filed
    assert receipt["service_request_id"]
    [one] = await asyncio.to_thread(client.request, receipt["service_request_id"])
    assert (one["service_code"], one["description"], one["status"]) == (
        "roads", KIOSK_TEXT, "open")
    async with running.app.db.session() as session:
        stored = (await session.exec(select(Petition.description, Petition.kind).where(
            Petition.code == receipt["service_request_id"]))).all()
    assert stored == [(KIOSK_TEXT, "feedback")]

    refused = await asyncio.to_thread(client.post, "roads", description=KIOSK_TEXT,
                                      api_key="wrong-key")
    assert client.post_response.status_code == 403
    assert refused[0]["code"] == 403 and refused[0]["description"]


@pytest.mark.parametrize("running", [{"open311": False}], indirect=True)
async def test_the_api_is_off_when_the_setting_says_so(running: Running):
    async with aiohttp.ClientSession() as http:
        async with http.get(running.base + "/open311/v2/services.json") as resp:
            assert resp.status == 404
        async with http.get(running.base + "/healthz") as resp:
            assert resp.status == 200


def test_the_api_is_on_by_default_and_open311_false_switches_it_off(monkeypatch):
    assert Settings(_env_file=None).open311 is True
    monkeypatch.setenv("OPEN311", "false")
    assert Settings(_env_file=None).open311 is False
