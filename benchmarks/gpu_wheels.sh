#!/usr/bin/env bash
# The wheels the GPU check needs beyond the device machine's image, downloaded here (where
# pip reaches PyPI) into .whl/ at the repository's root, which the `device` tool carries
# (`carry: [".whl"]`). The image (/work/.library/device/KINDS.md) is CPython 3.12 with JAX,
# diffrax, equinox, lineax, optimistix, xarray, fsspec, scipy, matplotlib, typer and tqdm,
# but no zarr: zarr and what it needs beyond the image are fetched here. The device
# command that installs them and runs the check is in docs/sweeps.md ("The GPU check on a
# lent machine").
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl \
    zarr==3.1.6 numcodecs==0.17.1 donfig==0.8.1.post1 google-crc32c==1.9.0
ls .whl
