"""The wheel a plain ``pip install .`` builds holds the whole package and the shipped models.

An editable install hides a subpackage that the build leaves out; this test
builds the wheel as a newcomer's install does and looks inside.
"""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def repository_files(folder, pattern):
    return {path.relative_to(ROOT / folder).as_posix()
            for path in (ROOT / folder).rglob(pattern) if "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                            str(ROOT)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = out.glob("dfl_keras-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_every_module_is_in_the_wheel(wheel_names):
    modules = repository_files("dfl_keras", "*.py")
    assert len(modules) > 50
    missing = sorted(m for m in modules if f"dfl_keras/{m}" not in wheel_names)
    assert not missing, f"left out of the wheel: {missing}"
    assert "dfl_keras_cli.py" in wheel_names


def test_every_shipped_model_and_card_is_in_the_wheel(wheel_names):
    shipped = repository_files("saved_models", "*")
    assert {"dfl_celeba64.keras", "MODEL_CARD.md"} <= shipped
    missing = sorted(f for f in shipped if f"dfl_keras/saved_models/{f}" not in wheel_names)
    assert not missing, f"left out of the wheel: {missing}"
