"""Checks a built wheel before it is published: it holds only the package,
with `py.typed` and the `lnrnn-migrate` script, and requires no TensorFlow.
Run from a checkout, it also checks that the wheel's package files are the
checkout's, byte for byte (every tracked file but the Bazel BUILD files), so
the suite that ran on the checkout ran on the wheel's code.

    python scripts/check_wheel.py dist/tensorflow_lnrnn-*.whl
"""

import os
import pathlib
import re
import subprocess
import sys
import zipfile


def tracked_package_files():
    """{path: bytes} of the package's files tracked by git, or None outside a checkout."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "tensorflow_lnrnn"], capture_output=True, check=True
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return None
    paths = [p for p in listed.split("\0") if p and os.path.basename(p) != "BUILD"]
    return {p: pathlib.Path(p).read_bytes() for p in paths}


def check(path):
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        metadata = wheel.read(f"{dist_info}/METADATA").decode()
        entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
        packaged = {n: wheel.read(n) for n in names if n.startswith("tensorflow_lnrnn/")}
    strays = [n for n in names if not (n.startswith("tensorflow_lnrnn/") or n.startswith(dist_info + "/"))]
    assert not strays, f"files outside the package: {strays}"
    assert not [n for n in names if n.endswith("/BUILD")], "Bazel BUILD files in the wheel"
    assert "tensorflow_lnrnn/py.typed" in names, "no py.typed"
    assert "tensorflow_lnrnn/migrate/__main__.py" in names
    assert re.search(r"^lnrnn-migrate = tensorflow_lnrnn\.migrate:main$", entry_points, re.M), entry_points
    requirements = re.findall(r"^Requires-Dist: (.*)$", metadata, re.M)
    unconditional = [r for r in requirements if "extra ==" not in r]
    assert not [r for r in unconditional if re.match(r"(tensorflow|keras)\b", r)], unconditional
    assert any(r.startswith("tensorflow>=") and 'extra == "tensorflow"' in r for r in requirements), requirements
    tracked = tracked_package_files()
    if tracked is not None:
        missing, extra = sorted(set(tracked) - set(packaged)), sorted(set(packaged) - set(tracked))
        assert not missing and not extra, f"wheel vs checkout: missing {missing}, not tracked {extra}"
        changed = [n for n in tracked if tracked[n] != packaged[n]]
        assert not changed, f"differ from the checkout: {changed}"
    same = "the checkout's package files" if tracked is not None else "(no checkout to compare)"
    print(f"{path}: {len(names)} files, {same}, requires {unconditional}: OK")


if __name__ == "__main__":
    for wheel_path in sys.argv[1:]:
        check(wheel_path)
