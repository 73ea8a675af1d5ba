"""tensorflow_lnrnn: layer-normalized recurrent cells and layers for Keras."""

import os
import sysconfig

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version():
    scope = {}
    with open(os.path.join(HERE, "tensorflow_lnrnn", "version.py")) as f:
        exec(f.read(), scope)
    return scope["__version__"]


TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly")


def tensorflow_requirement():
    """`<the installed TensorFlow distribution> >= 2.13`, else `tensorflow>=2.13`.

    Requiring plain `tensorflow` where `tensorflow-cpu` is installed would make
    pip install a second, conflicting TensorFlow on top of it. pip builds the
    metadata in an isolated environment that hides the target's packages from
    `sys.path`, so look in the interpreter's own site-packages directly.
    """
    from importlib import metadata

    site_dirs = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    installed = {
        (dist.metadata["Name"] or "").lower().replace("_", "-")
        for dist in metadata.distributions(path=sorted(site_dirs))
    }
    for distribution in TENSORFLOW_DISTRIBUTIONS:
        if distribution in installed:
            return f"{distribution}>=2.13"
    return "tensorflow>=2.13"


with open(os.path.join(HERE, "README.md")) as f:
    long_description = f.read()

setup(
    name="tensorflow-lnrnn",
    version=read_version(),
    description="Layer-normalized LSTM, GRU and SimpleRNN cells and layers for Keras",
    long_description=long_description,
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_packages(include=["tensorflow_lnrnn", "tensorflow_lnrnn.*"]),
    python_requires=">=3.9",
    install_requires=[tensorflow_requirement(), "typeguard>=2.7"],
    entry_points={"console_scripts": ["lnrnn-migrate = tensorflow_lnrnn.migrate:main"]},
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "h5py", "matplotlib"],
        "benchmarks": ["matplotlib"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: TensorFlow",
        "License :: OSI Approved :: Apache Software License",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
