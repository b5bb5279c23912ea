"""The SageMaker contract helpers: roots, hyperparameters, failure file, model tarball."""

from __future__ import annotations

import json
import tarfile

import pytest

from training_code.contract import (
    Hyperparameters,
    JobError,
    TrainingPaths,
    read_hyperparameters,
    run_job,
    unpack_model,
    write_model_tarball,
)


def test_paths_default_to_sm_root_and_sm_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("SM_ROOT", str(tmp_path))
    monkeypatch.delenv("SM_MODEL_DIR", raising=False)
    paths = TrainingPaths.resolve()
    assert paths.model_dir == tmp_path / "model"
    assert paths.channel("train") == tmp_path / "input" / "data" / "train"
    assert paths.failure_file == tmp_path / "output" / "failure"
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(tmp_path / "train-channel"))
    paths = TrainingPaths.resolve()
    assert paths.model_dir == tmp_path / "elsewhere"
    assert paths.channel("train") == tmp_path / "train-channel"


def test_explicit_root_ignores_sm_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("SM_MODEL_DIR", "/opt/ml/model")
    paths = TrainingPaths.resolve(tmp_path)
    assert paths.model_dir == tmp_path / "model"


def test_hyperparameters_arrive_as_strings(tmp_path):
    (tmp_path / "hyperparameters.json").write_text(
        json.dumps({"eta": "0.2", "max_depth": "5.0", "model": '"tree"', "n": 3})
    )
    hp = Hyperparameters(read_hyperparameters(tmp_path))
    assert hp.raw["n"] == "3"
    assert hp.float("eta", 1.0) == 0.2
    assert hp.int("max_depth", 1) == 5
    assert hp.str("model", "gbm") == "tree"  # framework estimators JSON-encode strings
    with pytest.raises(JobError, match="max_depth"):
        Hyperparameters({"max_depth": "5.5"}).int("max_depth", 1)
    with pytest.raises(JobError, match="outside"):
        Hyperparameters({"eta": "2"}).float("eta", 0.1, low=0, high=1)


def test_unknown_hyperparameters_fail_but_sagemaker_ones_pass():
    Hyperparameters({"eta": "1", "_tuning_objective_metric": "validation:auc"}).reject_unknown(
        {"eta"}
    )
    with pytest.raises(JobError, match="etaa"):
        Hyperparameters({"etaa": "1"}).reject_unknown({"eta"})


def test_run_job_writes_failure_file_and_exits_non_zero(tmp_path):
    def broken():
        raise JobError("column 'temp' is not numeric at line 3")

    with pytest.raises(SystemExit) as exit_info:
        run_job(broken, [tmp_path / "output" / "failure"])
    assert exit_info.value.code == 1
    assert "temp" in (tmp_path / "output" / "failure").read_text()


def test_model_tarball_is_reproducible_and_unpacks(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "xgboost-model").write_bytes(b"model bytes")
    first = write_model_tarball(model, tmp_path / "a" / "model.tar.gz").read_bytes()
    second = write_model_tarball(model, tmp_path / "b" / "model.tar.gz").read_bytes()
    assert first == second
    with tarfile.open(tmp_path / "a" / "model.tar.gz") as tar:
        assert tar.getnames() == ["xgboost-model"]  # files at the archive root, as SageMaker
    unpacked = unpack_model(tmp_path / "a" / "model.tar.gz", tmp_path / "x")
    assert (unpacked / "xgboost-model").read_bytes() == b"model bytes"


def test_old_pythons_refuse_archive_members_that_escape_the_folder(tmp_path):
    """Framework images whose Python lacks tarfile's data filter get the same refusals."""
    import io
    import tarfile

    from training_code.contract import JobError, _refuse_unsafe_members

    for name, kind in (("../evil", tarfile.REGTYPE), ("/etc/x", tarfile.REGTYPE),
                       ("link", tarfile.SYMTYPE)):  # fmt: skip
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            member = tarfile.TarInfo(name)
            member.type = kind
            tar.addfile(member, io.BytesIO(b""))
        buffer.seek(0)
        with tarfile.open(fileobj=buffer, mode="r:gz") as tar, pytest.raises(JobError):
            _refuse_unsafe_members(tar)
