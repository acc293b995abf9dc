"""Batched parameter sweeps of either model: chunked, vmapped, sharded over devices or run
as tasks on an executor (a Dask cluster), stored in resumable, self-describing zarr stores
on a filesystem or object storage.

Modules: `engine` (`sweep`: the plans), `arguments` (the checks before any compute), `spec`
(grid, options, chunks, memory), `models` (what each model computes), `programs` (chunk
programs traced once), `workers` (pinned CPU worker processes), `executors` (tasks on an
executor), `store` and `location` (the zarr store and where it lives)."""

from .engine import parse_axis as parse_axis
from .engine import status_counts as status_counts
from .engine import sweep as sweep
from .engine import vmap_waste as vmap_waste
from .executors import ChunksFailedError as ChunksFailedError
from .models import MODELS as MODELS
from .models import STATUS as STATUS
from .models import SweepModel as SweepModel
from .store import StoreDamagedWarning as StoreDamagedWarning
from .store import StoreFullError as StoreFullError
from .store import StoreMismatchError as StoreMismatchError
from .store import open_sweep as open_sweep
