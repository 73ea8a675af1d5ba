"""Checks a built wheel before it is published: it holds only the package,
with `py.typed` and the `lnrnn-migrate` script, and requires no TensorFlow.

    python scripts/check_wheel.py dist/tensorflow_lnrnn-*.whl
"""

import re
import sys
import zipfile


def check(path):
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        metadata = wheel.read(f"{dist_info}/METADATA").decode()
        entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
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
    print(f"{path}: {len(names)} files, requires {unconditional}: OK")


if __name__ == "__main__":
    for wheel_path in sys.argv[1:]:
        check(wheel_path)
