"""`hotline serve` without the secret key: refused at once, with how to make one."""

from __future__ import annotations

import pytest

from hotline.cli.main import main


def test_serve_refuses_to_start_without_a_secret_key(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HOTLINE_SECRET_KEY", raising=False)
    # Nothing listens here: a serve that went on would hang trying, not return.
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://127.0.0.1:9/0")
    assert main(["serve"]) == 2
    said = capsys.readouterr().err
    assert "HOTLINE_SECRET_KEY is not set" in said
    assert "export HOTLINE_SECRET_KEY=$(python3 -c" in said


def test_every_use_of_the_secret_has_its_own_key() -> None:
    from hotline.settings import MissingSecretKey, Settings

    settings = Settings(secret_key=b"k")
    keys = {use: settings.secret_for(use) for use in ("billing", "sampling", "phones")}
    # Billing keeps the key itself: vouchers hashed before uses were told apart.
    assert keys == {"billing": b"k", "sampling": b"k:sampling", "phones": b"k:phones"}
    with pytest.raises(MissingSecretKey):
        Settings().secret_for("sampling")
