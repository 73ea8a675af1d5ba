#!/bin/sh
echo "bazel coverage is not supported offline; use pytest --cov" >&2
exit 1
