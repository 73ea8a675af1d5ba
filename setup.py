"""tensorflow_lnrnn: layer-normalized recurrent cells and layers for Keras."""

import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version():
    scope = {}
    with open(os.path.join(HERE, "tensorflow_lnrnn", "version.py")) as f:
        exec(f.read(), scope)
    return scope["__version__"]


def tensorflow_requirement():
    # Do not force the (large, CUDA) `tensorflow` wheel on machines that have
    # `tensorflow-cpu` already; either one satisfies us.
    from importlib import metadata

    for distribution in ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"):
        try:
            metadata.version(distribution)
            return f"{distribution}>=2.16"
        except metadata.PackageNotFoundError:
            continue
    return "tensorflow>=2.16"


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
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6", "h5py"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: TensorFlow",
        "License :: OSI Approved :: Apache Software License",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
