"""What the wheel ships besides the code: the licence the metadata names."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel as `pip install` builds it, built offline with the project's build backend."""
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("wheel")
    built = list(WheelBuilder(str(REPO_ROOT)).build(directory=str(out), versions=["standard"]))
    return zipfile.ZipFile(built[0])


def test_the_repository_has_the_mit_licence_its_metadata_names() -> None:
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    assert declared == "MIT"
    text = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text  # the MIT grant, as opensource.org words it


def test_the_wheel_carries_the_licence_file_and_names_it(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    licence = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    assert licence, names
    assert wheel.read(licence[0]) == (REPO_ROOT / "LICENSE").read_bytes()
    metadata_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
    metadata = wheel.read(metadata_name).decode("utf-8").splitlines()
    assert "License-Expression: MIT" in metadata
    assert "License-File: LICENSE" in metadata


def test_the_wheel_still_ships_the_specs_and_fixtures(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "mockserver/specs/admin.yaml" in names
    assert any(name.startswith("mockserver/fixtures/shopify/orders/") for name in names)
    assert not any(Path(name).parts[0] in {"tests", "scripts"} for name in names)
