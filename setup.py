"""Packages are found, not listed: a new subpackage cannot be left out of the wheel.

The shipped models live in the repository's saved_models/ folder and install
as dfl_keras/saved_models/, where dfl_keras.presets finds them.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["dfl_keras", "dfl_keras.*"]) + ["dfl_keras.saved_models"],
    package_dir={"dfl_keras.saved_models": "saved_models"},
)
