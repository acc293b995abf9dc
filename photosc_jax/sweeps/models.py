"""What a sweep computes at one parameter point, for each model.

A `SweepModel` names the parameter class, the per-point function (pure, jit/vmap-safe,
params → dict of scalars), the outputs it records (CF metadata in `Var`), and the run
options (with defaults and ranges) that enter every point. A *row method* (`along` set:
the interband "continuation") solves a whole row per call instead; its per-row outputs
carry `Var(per_row=True)`. `get_model(name, method, along)` builds each variant once. The
sweep engine (`engine.py`) is model-agnostic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import diffrax as dfx
import jax.numpy as jnp
import numpy as np

from ..interband.steady import EVOLUTION_STATUS
from .spec import Option

# Status codes of a grid point (stored in the `status` variable). Negative codes are the
# store's own: a point not computed yet, or a chunk whose data failed its checksum.
STORE_STATUS = {-2: "damaged", -1: "not computed"}
# the interband evolution's outcomes (`interband.steady.evolution_outcome`)
STATUS = dict(EVOLUTION_STATUS)


@dataclasses.dataclass(frozen=True)
class Var:
    """An output variable: CF `long_name`, `units`, dtype, and flag meanings for codes."""

    long_name: str
    units: str = "1"
    dtype: Any = np.float64
    flags: dict[int, str] | None = None
    per_row: bool = False  # one value per row of a row method (no `along` dim)
    needs: str | None = None  # a run option: the variable exists only when it is nonzero

    def attrs(self) -> dict[str, Any]:
        a = dict(long_name=self.long_name, units=self.units)
        if self.flags:
            a["flag_values"] = [int(k) for k in self.flags]
            a["flag_meanings"] = " ".join(v.replace(" ", "_").replace("=", "eq") for v in self.flags.values())
        return a


@dataclasses.dataclass(frozen=True)
class SweepModel:
    """What a sweep computes at one point of one model (the engine is model-agnostic)."""

    name: str
    params_cls: type
    options: dict[str, Option]  # run options, with defaults and allowed ranges
    outputs: dict[str, Var]  # output variable → metadata
    main: str  # the variable a phase-diagram plot shows
    point: Callable[[Any, dict[str, Any]], dict[str, Any]]  # (params, options) → outputs
    parameters: dict[str, tuple[str, str]]  # parameter → (long_name, units)
    bytes_per_point: Callable[[dict, dict], int]  # memory estimate of one point in flight
    size_description: Callable[[dict], str] = lambda p: ""
    size_hint: str = "fewer points"
    status_names: dict[int, str] = dataclasses.field(default_factory=lambda: dict(STATUS))
    numerics: int = 1  # bump when a change alters the numbers a point gives
    chunk_size: int = 64  # default points per chunk
    method: str = "evolve"  # how a point is solved (stored with the sweep)
    along: str | None = None  # row methods: `point` solves a whole row along this axis

    def param_fields(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.params_cls)]

    def choice_fields(self) -> list[str]:
        """The parameters that take a name, not a number (e.g. `phonon_targets`)."""
        return [f.name for f in dataclasses.fields(self.params_cls) if isinstance(f.default, str)]

    def status_meanings(self) -> dict[int, str]:
        return {**STORE_STATUS, **self.status_names}

    def for_options(self, options: dict[str, Any]) -> SweepModel:
        """This model with only the outputs that `options` produce (a variable that `needs`
        a run option is left out where that option is 0)."""
        off = tuple(k for k, v in self.outputs.items() if v.needs is not None and not options.get(v.needs))
        if not off:
            return self
        key = (self.name, self.method, self.along, off)
        if key not in _BUILT:
            kept = {k: v for k, v in self.outputs.items() if k not in off}
            _BUILT[key] = dataclasses.replace(self, outputs=kept)
        return _BUILT[key]


# --------------------------------------------------------------------------------------
# Interband model: steady state by time evolution with the gauge-invariant detector.


def _described(table: str) -> dict[str, tuple[str, str]]:
    """`SweepModel.parameters` from lines `name: long name [units]`."""
    out = {}
    for line in filter(None, (ln.strip() for ln in table.splitlines())):
        name, rest = line.split(":", 1)
        long_name, units = rest.rsplit("[", 1)
        out[name.strip()] = (long_name.strip(), units.rstrip("]").strip())
    return out


def _interband_point(params, opt):
    from ..interband.equations import coefficients
    from ..interband.solver_state import split
    from ..interband.state import initial_state
    from ..interband.steady import evolution_outcome, run_to_steady_state

    floor = opt["delta_floor"]
    c = coefficients(params, half=True)
    y1, res, steady, sol, late = run_to_steady_state(
        params,
        initial_state(params),
        opt["t_max"],
        opt["steady_tol"],
        floor,
        dfx.Dopri8(),
        opt["rtol"],
        opt["atol"],
        opt["max_steps"],
        window=17,
    )
    status = evolution_outcome(sol, y1, steady, late, floor)
    paired = res.delta_abs >= floor
    bad = status == 3
    n22 = jnp.sum(c.weights * split(y1)[1]) / params.n_k
    return dict(
        delta_abs=jnp.where(bad, jnp.nan, jnp.where(paired, res.delta_abs, 0.0)),
        mu=jnp.where(bad | ~paired, jnp.nan, res.mu),
        n_exc=jnp.where(bad, jnp.nan, n22),
        residual=jnp.where(paired, jnp.maximum(res.populations, jnp.abs(res.growth)), res.populations),
        status=status,
        steps=sol.stats["num_steps"].astype(jnp.int32),
        t_final=sol.ts[0][-1],
    )


_UNIT_INTERVAL = dict(low=0.0, high=1.0, open_low=True, open_high=True)


def _interband_size(p) -> tuple[int, int]:
    n_k = int(round(2.0 * p["k_max"] / p["dk"])) + 1
    return n_k, 6 * ((n_k + 1) // 2) + 1


def _interband_model() -> SweepModel:
    from ..interband.params import InterbandParams

    status = Var("outcome of the time evolution", flags={**STORE_STATUS, **STATUS}, dtype=np.int32)
    return SweepModel(
        name="interband",
        params_cls=InterbandParams,
        options=dict(
            t_max=Option(
                20_000.0, "time budget: evolve until steady or t_max [hbar/E_g]", low=0.0, open_low=True
            ),
            rtol=Option(1e-6, "relative tolerance of the integrator", **_UNIT_INTERVAL),
            atol=Option(1e-9, "absolute tolerance of the integrator", **_UNIT_INTERVAL),
            steady_tol=Option(1e-7, "steady-state detector tolerance [E_g/hbar]", **_UNIT_INTERVAL),
            delta_floor=Option(
                1e-12, "|Delta| below which a decaying state is normal [E_g]", **_UNIT_INTERVAL
            ),
            max_steps=Option(200_000, "integrator step budget", kind=int, low=1),
        ),
        outputs=dict(
            delta_abs=Var("steady-state |Delta| (0: normal state; NaN: solver failure)", "E_g"),
            mu=Var("rotation frequency of Delta, Delta(t) = |Delta| exp(i mu t) (NaN if normal)", "E_g/hbar"),
            n_exc=Var("mean conduction-band population sum_k n22_k / N"),
            residual=Var(
                "stationarity residual at the end (populations; and d ln|s|/dt if paired)", "E_g/hbar"
            ),
            status=status,
            steps=Var("integrator steps", dtype=np.int32),
            t_final=Var("time reached (steady-state detection stops early)", "hbar/E_g"),
        ),
        main="delta_abs",
        point=_interband_point,
        parameters=_described("""
            A1: valence-band curvature A1, E1 = A1 k^2 - 1/2 [E_g a^2]
            A2: conduction-band curvature A2, E2 = A2 k^2 + 1/2 [E_g a^2]
            Omega: Rabi frequency Omega [E_g]
            V: interband interaction V [E_g]
            gamma_ph: phonon rate Gamma_ph [E_g/hbar]
            gamma_rr: radiative recombination rate Gamma_rr [E_g/hbar]
            v: acoustic phonon velocity v [E_g a/hbar]
            T: bath temperature T [E_g/k_B]
            detuning: laser detuning nu - E_g [E_g]
            phonon_targets: where an off-grid phonon emission lands: nearest or linear [1]
            k_max: half-width of the momentum box [1/a]
            dk: momentum grid step [1/a]
        """),
        # evolution: the state, 14 Runge-Kutta stages, error estimate, a 17-state save window
        bytes_per_point=lambda p, o: 8 * 40 * _interband_size(p)[1] + 64 * _interband_size(p)[0],
        size_description=lambda p: "N = {} k-points, {} unknowns per point".format(*_interband_size(p)),
        size_hint="a larger --dk or a smaller --k_max",
        numerics=1,
    )


def _interband_continuation(along: str) -> SweepModel:
    """Rows along `along`: normal state + linear stability + continued paired branch
    (`interband.phase_map`)."""
    import functools

    from ..interband.methods import Evolve
    from ..interband.outcomes import names as result_names
    from ..interband.phase_map import NOT_CONFIRMED, PHASES, phase_row

    base = _interband_model()
    results = {i: n.replace("_", " ") for i, n in enumerate(result_names())}

    def point(params, opt):
        return phase_row(
            params,
            along,
            tol=opt["newton_tol"],
            delta_floor=opt["delta_floor"],
            max_jump=opt["max_jump"],
            quench=bool(opt["quench"]),
            confirm=Evolve(t_max=opt["confirm"]) if opt["confirm"] > 0 else None,
        )

    units = base.parameters.get(along, (along, "1"))[1]
    return dataclasses.replace(
        base,
        method="continuation",
        along=along,
        point=functools.wraps(phase_row)(point),
        options=dict(
            newton_tol=Option(1e-11, "Newton/chord tolerance (relative step)", **_UNIT_INTERVAL),
            delta_floor=Option(
                1e-12, "|Delta| below which a root is the normal state [E_g]", **_UNIT_INTERVAL
            ),
            max_jump=Option(
                0.5,
                "largest relative change of |Delta| per grid step on the branch",
                low=0.0,
                high=1.0,
                open_low=True,
            ),
            quench=Option(
                0,
                "1: also relax a quenched branch state per row (T = 0, along V) for quench_threshold",
                kind=int,
                low=0,
                high=1,
            ),
            confirm=Option(
                0.0,
                "evolve each transient or unsettled point from the paper's initial state for this "
                "long to confirm its phase [hbar/E_g] (0: no confirmation)",
                low=0.0,
            ),
        ),
        outputs=dict(
            delta_abs=Var(
                "steady |Delta| that time evolution from the paper's initial state reaches "
                "(0: normal, bistable or transient; NaN: unsettled or failed)",
                "E_g",
            ),
            delta_abs_paired=Var("|Delta| of the paired steady state (NaN off the branch)", "E_g"),
            mu=Var("rotation frequency of Delta on the paired branch (NaN off it)", "E_g/hbar"),
            growth_rate=Var("leading pairing growth rate of the normal state (> 0: unstable)", "E_g/hbar"),
            n_exc=Var("mean conduction-band population sum_k n22_k / N of the reported state"),
            residual=Var("max-norm stationarity residual of the reported state", "E_g/hbar"),
            phase=Var("phase of the point", flags={-1: "not computed", **PHASES}, dtype=np.int32),
            status=Var("outcome (solver result code)", flags={**STORE_STATUS, **results}, dtype=np.int32),
            threshold=Var(
                f"critical {along}: root of the normal state's growth rate along the row", units, per_row=True
            ),
            branch_end=Var(
                f"last {along} on the paired branch (continued from the more unstable end; NaN: no branch)",
                units,
                per_row=True,
            ),
            branch_growth=Var(
                "largest growth rate of the paired state at the branch's two ends "
                "(< 0: stable; NaN: no branch)",
                "E_g/hbar",
                per_row=True,
            ),
            quench_threshold=Var(
                f"critical {along} of the normal state a quenched branch state (pairs removed at the "
                "branch's last grid point) relaxes to (T = 0, along V; else NaN)",
                units,
                per_row=True,
                needs="quench",
            ),
            confirm_delta_abs=Var(
                "|Delta| at the end of the confirmation evolution (NaN where none ran)",
                "E_g",
                needs="confirm",
            ),
            confirm_peak=Var(
                "largest |Delta| seen during the confirmation evolution (NaN where none ran)",
                "E_g",
                needs="confirm",
            ),
            confirm_status=Var(
                "outcome of the confirmation evolution",
                flags={**STORE_STATUS, **STATUS, NOT_CONFIRMED: "not evolved"},
                dtype=np.int32,
                needs="confirm",
            ),
        ),
        # per row: dense co-rotating Jacobian and LU factors (~4 copies) dominate
        bytes_per_point=lambda p, o: 8 * 4 * _interband_size(p)[1] ** 2 + 8 * 200 * _interband_size(p)[1],
        status_names=results,
        chunk_size=256,
        numerics=1,
    )


# --------------------------------------------------------------------------------------
# Metastability of the long-lived model (paper 2, Fig. 2b).


def _metastability_point(params, opt):
    from ..longlived.metastability import analyze

    r = analyze(params, opt["T"], with_T_B=False)
    return dict(
        regime=r.regime.astype(jnp.int32),
        Q_B=r.Q_B,
        Q_MS=r.Q_MS,
        E_B=r.E_B,
        E_MS=r.E_MS,
        Delta_MS=r.Delta_MS,
        status=jnp.where(jnp.isfinite(r.h0) & jnp.isfinite(r.h_min), 0, 3).astype(jnp.int32),
    )


def _metastability_model() -> SweepModel:
    from ..longlived.metastability import MetastabilityParams

    regimes = {
        -1: "not computed",
        0: "none",
        1: "metastable I",
        2: "metastable II",
        3: "undistorted state unstable",
    }
    names = {0: "ok", 3: "non-finite result"}
    return SweepModel(
        name="metastability",
        params_cls=MetastabilityParams,
        options=dict(T=Option(0.0, "temperature T/omega", low=0.0)),
        outputs=dict(
            regime=Var("metastability regime at T", flags=regimes, dtype=np.int32),
            Q_B=Var("barrier position Q_B", "l0"),
            Q_MS=Var("metastable minimum Q_MS", "l0"),
            E_B=Var("barrier height E(Q_B) - E(0)", "hbar omega"),
            E_MS=Var("metastable energy E(Q_MS) - E(0)", "hbar omega"),
            Delta_MS=Var("gap at Q_MS", "hbar omega"),
            status=Var("outcome", flags={**STORE_STATUS, **names}, dtype=np.int32),
        ),
        main="regime",
        point=_metastability_point,
        parameters=_described("""
            DeltaE: level splitting Delta E / omega [hbar omega]
            nu: density of states nu(0) omega per spin and site [1]
            G: electron-phonon coupling g l0 / omega [1]
            lam0: pairing of the undistorted crystal lambda0 = U0 nu(0) [1]
            n_grid: points of the grid bracketing the zeros of h [1]
        """),
        bytes_per_point=lambda p, o: 8 * 400 * int(p.get("n_grid", 128)),
        size_description=lambda p: f"n_grid = {p.get('n_grid')}",
        size_hint="a smaller --n_grid",
        status_names=names,
        numerics=1,
        method="direct",
    )


MODELS: dict[str, Callable[[], SweepModel]] = {
    "interband": _interband_model,
    "metastability": _metastability_model,
}
METHODS = {"interband": ("evolve", "continuation"), "metastability": ("direct",)}


def default_method(name: str, swept: bool) -> str | None:
    """The method a sweep uses when none is given: interband maps are solved by
    "continuation" (no time stepping; tested against evolution) when an axis is swept, by
    "evolve" otherwise; other models have one method (None for an unknown model:
    `get_model` then says which exist)."""
    if name == "interband" and swept:
        return "continuation"
    return METHODS[name][0] if name in METHODS else None


def default_along(axes) -> str | None:
    """The row axis of "continuation" when none is given: V if swept over two values or
    more, else the last such axis (else the last axis, which `make_spec` then refuses with
    what to change)."""
    if not axes:
        return None
    rows = [k for k, v in axes.items() if np.size(v) > 1]
    return "V" if "V" in rows else (rows or list(axes))[-1]


def method_model(name: str, method: str | None) -> SweepModel:
    """A `SweepModel` of `method` for what does not depend on the row axis (its run
    options, its help)."""
    return get_model(name, method, "V" if method == "continuation" else None)


def elsewhere(model: SweepModel, names) -> str:
    """A hint naming the methods of `model`'s model that have the run options `names`."""
    hints = []
    for method in METHODS.get(model.name, ()):
        if method != model.method:
            other = method_model(model.name, method)
            have = [n for n in names if n in other.options]
            if have:
                hints.append(
                    f" {', '.join(have)}: run option(s) of method {method!r} "
                    f"(CLI --method {method}; the default for an interband map is "
                    "continuation)."
                )
    return "".join(hints)


_BUILT: dict[tuple, SweepModel] = {}


def get_model(name: str | SweepModel, method: str | None = None, along: str | None = None) -> SweepModel:
    """The `SweepModel` of model `name` solved by `method` (default: the model's first in
    `METHODS`); row methods (interband "continuation") work `along` one axis."""
    if isinstance(name, SweepModel):
        return name
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; choose one of {sorted(MODELS)}.")
    method = method or METHODS[name][0]
    if method not in METHODS[name]:
        raise ValueError(
            f"The {name} model has no method {method!r}; choose one of {', '.join(METHODS[name])}."
        )
    if method != "continuation" and along is not None:
        raise ValueError(f"--along applies to the continuation method, not to {method!r}.")
    key = (name, method, along)
    if key not in _BUILT:
        _BUILT[key] = MODELS[name]() if method != "continuation" else _interband_continuation(along)
    return _BUILT[key]


def model_of(spec: dict) -> SweepModel:
    """The `SweepModel` a stored specification was made with (its outputs those of its run
    options, `SweepModel.for_options`)."""
    return get_model(spec["model"], spec.get("method"), spec.get("along")).for_options(spec["options"])
