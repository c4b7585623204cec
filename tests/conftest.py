import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

SHARED_CELEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba_hq_64"
needs_shared_data = pytest.mark.skipif(
    not (SHARED_CELEBA / "list_attr_celeba.txt").exists(),
    reason="needs ../shared/data/celeba_hq_64 (not present on a fresh machine)",
)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
