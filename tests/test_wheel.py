"""The wheel a Colab user installs works outside the checkout: profiles, corpus, IN3, the recorded results
the chapters show and the Lab save hook all come from the installed package, never from ``notebooks/``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import json, sys
from pathlib import Path
import proactive
from proactive.config import available_profiles, load_profile
from proactive.data.in3 import bundled_in3_path
from proactive.lab_saving import is_chapter
from proactive.recorded import recorded
print(json.dumps({
    "package": proactive.__file__,
    "profiles": available_profiles(),
    "method": list(load_profile("cpu-unsloth").train.method),
    "in3": bundled_in3_path().is_file(),
    "demo": (recorded("demo") or {}).get("command"),
    "qulac_check": bool(recorded("qulac_check")),
    "chapter": is_chapter(Path(sys.argv[1]) / "01_masking.ipynb"),
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel, built from this checkout and installed (without dependencies: this venv has them) into a
    folder of its own, which comes first on the path of everything the test starts."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp / "dist"), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp / "dist").glob("proactive-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(tmp / "site"),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    return wheel, tmp / "site"


@pytest.mark.slow
def test_the_wheel_carries_what_the_chapters_read(installed, tmp_path):
    wheel, site = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "proactive/data/recorded/demo.json" in names and "proactive/configs/cpu-unsloth.yaml" in names
    assert "proactive/methods/rft.py" in names and "proactive/data/datasets/in3/LICENSE" in names
    chapters = tmp_path / "chapters"  # a reader's folder, nowhere near the checkout
    chapters.mkdir()
    for suffix in (".py", ".ipynb"):
        shutil.copy(ROOT / "notebooks" / f"01_masking{suffix}", chapters / f"01_masking{suffix}")
    done = subprocess.run([sys.executable, "-c", CHECK, str(chapters)], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(site)}, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["package"].startswith(str(site)), found["package"]  # the wheel's copy, not the checkout's
    assert "cpu-unsloth" in found["profiles"] and found["method"] == ["rft", "writer"] and found["in3"]
    assert found["demo"] and found["qulac_check"] and found["chapter"]


@pytest.mark.slow
def test_a_chapter_runs_from_the_installed_wheel(installed, tmp_path):
    import papermill

    _, site = installed
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    shutil.copy(ROOT / "notebooks" / "01_masking.ipynb", chapters / "01_masking.ipynb")
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(site)  # the kernel papermill starts inherits it
    try:
        papermill.execute_notebook(str(chapters / "01_masking.ipynb"), str(tmp_path / "out.ipynb"),
                                   parameters={"profile": "cpu-smoke", "run_dir": str(tmp_path / "run")},
                                   kernel_name="python3", cwd=str(chapters), progress_bar=False)
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before
    cells = json.loads((tmp_path / "out.ipynb").read_text())["cells"]
    printed = json.dumps([c.get("outputs", []) for c in cells])
    assert "proactive 0.1.0 ready" in printed  # the install cell's check, from the wheel
    assert (tmp_path / "run" / "masked_test.jsonl").is_file()
