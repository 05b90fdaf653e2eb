"""The environment is the one requirements.lock names (`make` installs it; `make lock` refreshes it)."""

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
LOCKED_EXTRAS = ("book", "test", "dev")  # the extras `make lock` compiles


def read_lock(text):
    """Map each canonical package name to its pinned version, for the lines whose marker holds here."""
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        spec = list(req.specifier)
        if len(spec) != 1 or spec[0].operator != "==":
            raise ValueError(f"{LOCK.name}: {line!r} is not an exact pin (name==version)")
        if req.marker is None or req.marker.evaluate():
            pins[canonicalize_name(req.name)] = spec[0].version
    return pins


def installed_versions():
    return {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}


def test_read_lock_normalises_names_and_honours_markers():
    pins = read_lock(
        "Jupyter_Book==1.0.4.post1\n    # via helpers\n"
        "ruamel.yaml==0.18.6\n"
        "never-here==1.0 ; sys_platform == 'no-such-platform'\n"
    )
    assert pins == {"jupyter-book": "1.0.4.post1", "ruamel-yaml": "0.18.6"}
    with pytest.raises(ValueError, match="not an exact pin"):
        read_lock("numpy>=1.26\n")


def test_lock_pins_every_dependency_of_the_project():
    """Everything pyproject.toml asks for (core, book, test, dev) has a pin: the lock is not stale."""
    pins = read_lock(LOCK.read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        canonicalize_name(Requirement(text).name)
        for text in project["dependencies"]
        + [t for e in LOCKED_EXTRAS for t in project["optional-dependencies"][e]]
    }
    missing = sorted(wanted - set(pins))
    assert not missing, f"requirements.lock has no pin for {missing}: run `make lock`"


def test_installed_versions_match_the_lock():
    pins = read_lock(LOCK.read_text())
    installed = installed_versions()
    wrong = {
        name: (version, installed.get(name, "not installed"))
        for name, version in pins.items()
        if installed.get(name) != version
    }
    assert not wrong, f"installed packages differ from requirements.lock (pinned, installed): {wrong}"


def test_pip_is_the_version_the_makefile_pins():
    makefile = (ROOT / "Makefile").read_text()
    pinned = re.search(r"^PIP_VERSION\s*:=\s*(\S+)", makefile, re.M).group(1)
    assert importlib.metadata.version("pip") == pinned


def test_environment_yml_installs_the_same_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-r requirements.lock", "-e ."]
