"""Batched parameter sweeps of either model: chunked, vmapped, sharded over devices or run
as tasks on an executor (a Dask cluster), stored in resumable, self-describing zarr stores
(see `engine.sweep`, `executors`, `store`)."""

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
