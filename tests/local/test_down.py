"""`make down`: the local state goes; the account's janitor runs only where credentials are."""

from __future__ import annotations

from workshopctl.__main__ import main


def test_down_removes_the_local_state(tmp_path):
    root = tmp_path / ".local"
    (root / "raw" / "bike-sharing").mkdir(parents=True)
    (root / "raw" / "bike-sharing" / "hour.csv").write_text("x\n")
    assert main(["down", "--root", str(root)]) == 0
    assert not root.exists()
    assert main(["down", "--root", str(root)]) == 0  # again: nothing to do, no error


def test_janitor_without_credentials_is_skipped_not_failed(monkeypatch, tmp_path, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["janitor", "--if-credentials"]) == 0
    assert "janitor is skipped" in capsys.readouterr().out
