"""The runtime lock files name real platforms of the matrix and agree with what it implies."""

from __future__ import annotations

import pytest

from workshop_artifacts import runtimes
from workshop_spec import platforms

LOCKS = runtimes.locks()
# What training_code imports and so what every lock must pin (xgboost only where it runs).
PINNED_EVERYWHERE = {"numpy", "pandas", "scikit-learn", "scipy", "matplotlib"}


def test_every_runtime_we_ship_python_to_has_a_lock():
    assert {lock.platform for lock in LOCKS} == {"sagemaker-sklearn", "sagemaker-xgboost"}


@pytest.mark.parametrize("lock", LOCKS, ids=lambda lock: lock.name)
def test_lock_reproduces_the_image_the_stacks_deploy(lock):
    platform = platforms.matrix()[lock.platform]
    assert lock.image == platform.identifier, (
        f"{lock.path.name} reproduces {lock.platform} {lock.image}, but platforms.yaml deploys "
        f"{platform.identifier}: read the new image's versions and update the lock"
    )
    assert lock.name.endswith(platform.identifier)


@pytest.mark.parametrize("lock", LOCKS, ids=lambda lock: lock.name)
def test_lock_pins_what_the_matrix_implies(lock):
    implies = platforms.matrix()[lock.platform].implies
    if "scikit_learn" in implies:
        assert lock.pins["scikit-learn"] == implies["scikit_learn"]
    if "xgboost" in implies:
        assert lock.pins["xgboost"].startswith(f"{implies['xgboost']}.")
    assert lock.pins.keys() >= PINNED_EVERYWHERE
    assert lock.python.count(".") == 1
