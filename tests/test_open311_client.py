"""An existing Open311 client from PyPI against `python -m bot run`'s HTTP server.

georeport (0.3.1, 2025, Python 3) is the maintained GeoReport v2 client: it reads services
and requests in JSON and XML. It has no call to post, and the older clients that do (open311
1.1, three 0.8) are Python 2 only, so the post is the form they send, made with requests,
the HTTP library georeport itself uses.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import requests
from georeport import GeoReport

from bot import server
from bot.app import App, build
from bot.config import Settings
from bot.services import api_keys, commune_setup, roles
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.open311_seed import NOW, PUBLIC_TEXT, Seeded, seed

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
