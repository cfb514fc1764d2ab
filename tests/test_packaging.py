"""A non-editable install works: templates and question banks ship inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
    )
    (found,) = out.glob("quizgen-*.whl")
    return found


def test_wheel_carries_templates_and_banks(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "question_banks"):
        shipped = {str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*") if p.is_file()}
        assert shipped, folder
        missing = {f for f in shipped if f"quizgen/_data/{f}" not in names}
        assert not missing, f"not in the wheel: {sorted(missing)}"


def test_installed_wheel_makes_a_quiz_from_another_directory(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    # Reuse this interpreter's packages (numpy, jinja2, ...) so no download is needed; quizgen itself comes
    # only from the wheel.
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import quizgen, sys; from pathlib import Path; "
        "assert 'site-packages' in quizgen.__file__, quizgen.__file__; "
        "from quizgen.cli import main; sys.argv = ['quizgen'] + sys.argv[1:]; main()"
    )
    bank = "question_banks/pooling.yaml"
    proc = subprocess.run(
        [str(python), "-c", code, "make", "--topic", "pooling", "--seed", "1"],
        cwd=elsewhere, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "## Answer key" in proc.stdout
    # The shipped banks are found inside the installed package.
    proc = subprocess.run(
        [str(python), "-c", "from quizgen.resources import data_dir; print(data_dir('question_banks'))"],
        cwd=elsewhere, capture_output=True, text=True, check=True,
    )
    banks = Path(proc.stdout.strip())
    assert "site-packages" in str(banks) and (banks / Path(bank).name).is_file()
