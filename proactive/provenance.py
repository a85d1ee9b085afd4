"""What made a run: Python's and the key packages' versions and the checkout's git commit.

Written into every run folder's ``run.json`` and every recorded result, and printed first by every
chapter, so a figure can be traced to the code and libraries that produced it.
"""

from __future__ import annotations

from pathlib import Path

#: The packages whose versions decide a run's numbers.
PACKAGES = ("proactive", "torch", "transformers", "trl", "peft", "accelerate", "datasets", "unsloth",
            "sentence-transformers")


def provenance() -> dict:
    """What made a run: Python's and the key packages' versions (None: not installed) and the git
    commit of the checkout it ran from (None outside a git checkout)."""
    import platform
    import subprocess
    from importlib import metadata

    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
                              text=True, timeout=10, check=False)
        commit = done.stdout.strip() if done.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"versions": versions, "git_commit": commit}


def versions_line() -> str:
    """What a chapter prints first, as LLMs-from-scratch does: the versions its figures depend on."""
    info = provenance()
    shown = [f"{name} {version}" for name, version in info["versions"].items() if version]
    commit = f"; commit {info['git_commit'][:10]}" if info["git_commit"] else ""
    return ", ".join(shown) + commit
