"""Where a sweep store lives: a folder of a local (or mounted, shared) filesystem, or a prefix
on any storage an fsspec filesystem reaches (object stores: `s3://`, `gs://`, `az://`, …;
`memory://` within one process).

`location(x)` turns what a user gives (a path, a `file://` URL, another fsspec URL) into
`Local` or `Remote`; both offer what the store's bookkeeping needs beside zarr (which opens
`zarr_path()` itself): reading, writing and removing one file (object), finding files, and
which of a set of keys are absent. They differ in what the storage guarantees, which
decides how a store is created and which ways of running a sweep are allowed:

- `atomic_rename`: a folder can be renamed into place at once (a local filesystem; not an
  object store), so a store is created atomically and independent `--shard` processes may
  create it together;
- `in_process`: the storage exists in this process only (`memory://`), so no other process
  (worker, executor task) can reach it.

Object stores take the filesystem's settings (endpoint, credentials) from fsspec's own
configuration (environment variables such as `FSSPEC_S3_ENDPOINT_URL`, or a file in
`~/.config/fsspec`), as zarr and xarray read them too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["Local", "Remote", "location"]

# a URL: a scheme and "://", or an fsspec chain ("simplecache::s3://…")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+)(://|::)")


class Local:
    """A store in a folder of a filesystem (`path`)."""

    atomic_rename = True
    in_process = False
    nothing = "no such directory"  # what `read_spec` says where nothing is stored

    def __init__(self, path: Path):
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    def zarr_path(self, rel: str = "") -> str:
        """What zarr and xarray open: the store, or `rel` (an array or group) in it."""
        return str(self.path / rel) if rel else str(self.path)

    def present(self) -> bool:
        """Something that may be a store is there (a folder)."""
        return self.path.is_dir()

    def exists(self, rel: str = "") -> bool:
        return (self.path / rel).exists()

    def read_bytes(self, rel: str) -> bytes:
        return (self.path / rel).read_bytes()

    def write_bytes(self, rel: str, data: bytes) -> None:
        (self.path / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.path / rel).write_bytes(data)

    def remove(self, rel: str) -> None:
        (self.path / rel).unlink()

    def find(self, name: str) -> list[str]:
        """Every file called `name` in the store, relative to it."""
        return [f.relative_to(self.path).as_posix() for f in sorted(self.path.rglob(name))]

    def missing(self, prefix: str, keys) -> set[str]:
        """The `keys` (relative to `prefix`) that are not files."""
        return {k for k in keys if not (self.path / prefix / k).is_file()}

    def beside(self, suffix: str) -> Path:
        """A local file named after the store with `suffix`, next to it."""
        return Path(str(self.path).rstrip("/")).with_suffix(suffix)


class Remote:
    """A store under the prefix `root` of the fsspec filesystem `fs`, given as `url`.
    Writing one object is atomic (a PUT), renaming a folder is not possible."""

    atomic_rename = False
    nothing = "nothing stored there"

    def __init__(self, url: str, fs, root: str):
        from fsspec.implementations.memory import MemoryFileSystem

        self.url, self.fs, self.root = url, fs, root.rstrip("/")
        self.in_process = isinstance(fs, MemoryFileSystem)

    def __str__(self) -> str:
        return self.url

    def _key(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def zarr_path(self, rel: str = "") -> str:
        return f"{self.url}/{rel}" if rel else self.url

    def present(self) -> bool:
        """Something that may be a store is there (objects under the prefix)."""
        return self.fs.exists(self.root)

    def exists(self, rel: str = "") -> bool:
        return self.fs.exists(self._key(rel))

    def read_bytes(self, rel: str) -> bytes:
        return self.fs.cat_file(self._key(rel))

    def write_bytes(self, rel: str, data: bytes) -> None:
        self.fs.pipe_file(self._key(rel), data)

    def write_all(self, files: dict[str, bytes]) -> None:
        """Write several objects (concurrently where the filesystem can)."""
        self.fs.pipe({self._key(rel): data for rel, data in files.items()})

    def remove(self, rel: str) -> None:
        self.fs.rm_file(self._key(rel))

    def files(self, prefix: str = "") -> list[str]:
        """Every object under `prefix` of the store, relative to `prefix` (one listing)."""
        base = self._key(prefix).rstrip("/") + "/"
        try:
            found = self.fs.find(base.rstrip("/"))
        except FileNotFoundError:
            return []
        return sorted(p[len(base) :] for p in found if p.startswith(base))

    def find(self, name: str) -> list[str]:
        return [rel for rel in self.files() if rel.rsplit("/", 1)[-1] == name]

    def missing(self, prefix: str, keys) -> set[str]:
        """The `keys` (relative to `prefix`) with no object: one listing, not a request
        per key."""
        return set(keys) - set(self.files(prefix))

    def beside(self, suffix: str) -> Path:
        """A local file named after the store with `suffix`, in the current directory."""
        return Path(self.root.rsplit("/", 1)[-1]).with_suffix(suffix)


def location(where) -> Local | Remote:
    """A store's location: a path or a `file://` URL (`Local`), or the URL of storage an
    installed fsspec filesystem reaches (`Remote`); a `Local` or `Remote` is returned as it
    is. A URL whose filesystem is not installed, or whose protocol fsspec does not know,
    is refused with a one-line `ValueError` naming what to install or use."""
    import urllib.parse
    import urllib.request

    if isinstance(where, (Local, Remote)):
        return where
    text = os.fspath(where)
    scheme = _URL.match(text)
    if scheme is None:
        return Local(Path(text))
    protocol = scheme[1].lower()
    if protocol == "file" and scheme[2] == "://":
        return Local(Path(urllib.request.url2pathname(urllib.parse.urlparse(text).path)))
    import fsspec
    from fsspec.registry import get_filesystem_class, known_implementations

    for p in re.findall(r"([A-Za-z][A-Za-z0-9+.\-]+)(?:://|::)", text):
        try:
            get_filesystem_class(p)
        except ImportError:
            package = known_implementations[p]["class"].split(".", 1)[0]
            raise ValueError(
                f"{text}: stores on {p}:// need the package {package} (pip install {package})."
            ) from None
        except ValueError:
            raise ValueError(
                f"{text}: no fsspec filesystem knows the protocol {p}://; give a path, a file:// "
                "URL or the URL of storage an installed fsspec filesystem reaches (s3://, gs://, …)."
            ) from None
    fs, root = fsspec.core.url_to_fs(text)
    return Remote(text.rstrip("/"), fs, root)
