"""An admin creates, lists and revokes Open311 API keys from the shell; only hashes are kept."""

from __future__ import annotations

import hashlib
import re

from bot.services.commune_setup import DEMO_FILE


def test_an_admin_creates_lists_and_revokes_api_keys(shell, capsys, tmp_path):
    assert shell(capsys, "init", str(DEMO_FILE))[0] == 0
    code, _out, err = shell(capsys, "api-key", "create", "--name", "Kiosk UBND",
                            "--admin", "telegram:900")
    assert (code, err) == (1, "error: telegram:900 does not hold the admin role\n")
    assert shell(capsys, "role", "grant", "--channel", "telegram", "--user-id", "900",
                 "--role", "admin")[0] == 0

    code, out, err = shell(capsys, "api-key", "create", "--name", "Kiosk  UBND",
                           "--admin", "telegram:900")
    assert code == 0, err
    [key] = re.findall(r"^API key 1 for Kiosk UBND: (\S+)$", out, re.M)
    assert len(key) >= 40
    database = (tmp_path / "cli.db").read_bytes()
    assert key.encode() not in database
    assert hashlib.sha256(key.encode()).hexdigest().encode() in database

    code, out, _err = shell(capsys, "api-key", "list")
    [line] = out.splitlines()
    assert line.startswith(f"1\tKiosk UBND\t{key[:8]}…\t0 use(s), never used\tactive\t")
    assert key not in out

    assert shell(capsys, "api-key", "revoke", "1")[1] == "API key 1 (Kiosk UBND) is revoked\n"
    assert "\trevoked " in shell(capsys, "api-key", "list")[1]
    code, _out, err = shell(capsys, "api-key", "revoke", "7")
    assert (code, err) == (1, "error: no API key 7\n")
