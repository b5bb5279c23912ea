"""`workshopctl workshop-studio-rehearsal` refuses bad input by name before serving anything
(its runs themselves are test_bundle_rehearsal.py's, through the same start_bundle)."""

from __future__ import annotations

from workshopctl.__main__ import main


def test_an_account_id_that_is_not_12_digits_is_refused(tmp_path, capsys):
    status = main(["workshop-studio-rehearsal", "--bundle", str(tmp_path), "--account", "1234"])
    assert status == 2
    assert "--account 1234: an AWS account id has 12 digits" in capsys.readouterr().out


def test_a_folder_that_is_not_a_bundle_is_refused(tmp_path, capsys):
    status = main(["workshop-studio-rehearsal", "--bundle", str(tmp_path), "--no-labs"])
    assert status == 2
    assert "has no contentspec.yaml: run `make workshop-studio` first" in capsys.readouterr().out
