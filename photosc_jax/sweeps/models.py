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

import jax.numpy as jnp
import numpy as np

from ..interband.outcomes import names as _result_names
from .spec import Option

# Status codes of a grid point (stored in the `status` variable). Negative codes are the
# store's own: a point not computed yet, or a chunk whose data failed its checksum.
STORE_STATUS = {-2: "damaged", -1: "not computed"}
# the interband solvers' outcomes (`interband.outcomes.RESULTS`, by code)
STATUS = {i: n.replace("_", " ") for i, n in enumerate(_result_names())}


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
    # the method object of the run options (`Evolve`, `Continuation`; None: plain options)
    method_of: Callable[[dict[str, Any]], Any] | None = None
    method_cls: type | None = None  # the class `method_of` builds

    def options_of(self, method) -> dict[str, Any]:
        """The run options of a method object of this model (its fields, `_read_back`).
        A field that is no run option must be at its default (a sweep could not honour it)."""
        options = {name: _read_back(method, name, opt) for name, opt in self.options.items()}
        if self.method_of is not None:
            rebuilt = self.method_of(options)
            for f in dataclasses.fields(method):
                given = getattr(method, f.name)
                if f.metadata.get("static", False) and given != getattr(rebuilt, f.name):
                    raise ValueError(
                        f"sweep(method={type(method).__name__}({f.name}={given!r}, ...)): a sweep runs "
                        f"only the fields that are run options ({', '.join(self.options)}); leave "
                        f"{f.name} at its default or call steady_state or phase_row directly."
                    )
        return options

    def param_fields(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.params_cls)]

    def choice_fields(self) -> list[str]:
        """The parameters that take a name, not a number (e.g. `phonon_targets`)."""
        return [f.name for f in dataclasses.fields(self.params_cls) if isinstance(f.default, str)]

    def status_meanings(self) -> dict[int, str]:
        return {**STORE_STATUS, **self.status_names}

    def resolve(self, options: dict[str, Any]) -> dict[str, Any]:
        """The run options as the method object has them: built from `options` (which
        checks them, with the object's own message) and read back, so that a default tied
        to another knob (`Evolve.tol` = rtol/2) is the object's."""
        if self.method_of is None:
            return options
        return self.options_of(self.method_of(options))

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


def _read_back(method, name: str, opt: Option):
    """The value of the run option `name` in the method object built from it (a nested
    method's field `confirm_t_max` is `method.confirm.t_max`, 0 where there is none; a
    named choice is its enum's value, the option's default where the field is None)."""
    outer, _, inner = name.partition("_") if name.startswith("confirm_") else (name, "", "")
    value = getattr(method, outer)
    if inner:
        value = 0.0 if value is None else getattr(value, inner)
    if opt.kind is str:
        return opt.default if value is None else str(value.value)
    return opt.kind(np.asarray(value).item())


def _method_options(cls, **nested: Option) -> dict[str, Option]:
    """The run options of a method class: its numeric fields (bools as 0/1), named and
    defaulted as the class's constructor has them (read from its signature: no object is
    built, so importing the CLI starts no JAX backend and `XLA_FLAGS` set later still
    apply); `nested` adds the options of a nested method field (e.g. `confirm_t_max`).
    Values are checked by the class itself (`SweepModel.resolve`)."""
    import inspect

    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    out = {}
    for f in dataclasses.fields(cls):
        value = defaults.get(f.name, inspect.Parameter.empty)
        about = f"{cls.__name__}.{f.name} (help(photosc_jax.interband.{cls.__name__}))"
        if isinstance(value, bool):
            out[f.name] = Option(int(value), about, kind=int, low=0, high=1)
        elif isinstance(value, int):
            out[f.name] = Option(value, about, kind=int, low=1)
        elif isinstance(value, float):
            out[f.name] = Option(value, about)
        elif value is None and "Float[" in str(f.type):
            # a default the object derives from other fields (Evolve.tol = rtol/2)
            out[f.name] = Option(None, about)
    return {**out, **nested}


def _evolve_method(opt):
    from ..interband import Evolve

    return Evolve(**{k: opt[k] for k in ("t_max", "tol", "rtol", "atol", "delta_floor", "max_steps")})


def _interband_point(params, opt):
    from ..interband import steady_state
    from ..interband.outcomes import RESULTS, code

    ss = steady_state(params, _evolve_method(opt))
    res = ss.residual
    paired = ss.delta_abs > 0
    bad = (ss.result == RESULTS.solver_failed) | (ss.result == RESULTS.max_steps_reached)
    return dict(
        delta_abs=jnp.where(bad, jnp.nan, ss.delta_abs),
        mu=jnp.where(bad | ~paired, jnp.nan, ss.mu),
        n_exc=jnp.where(bad, jnp.nan, jnp.mean(ss.state.n22)),
        residual=jnp.where(paired, jnp.maximum(res.populations, jnp.abs(res.growth)), res.populations),
        status=code(ss.result),
        steps=ss.stats["num_steps"].astype(jnp.int32),
        t_final=ss.t,
    )


_UNIT_INTERVAL = dict(low=0.0, high=1.0, open_low=True, open_high=True)


def _interband_size(p) -> tuple[int, int]:
    n_k = int(round(2.0 * p["k_max"] / p["dk"])) + 1
    return n_k, 6 * ((n_k + 1) // 2) + 1


def _interband_model() -> SweepModel:
    from ..interband import Evolve
    from ..interband.params import InterbandParams

    status = Var("outcome of the time evolution", flags={**STORE_STATUS, **STATUS}, dtype=np.int32)
    return SweepModel(
        name="interband",
        params_cls=InterbandParams,
        options=_method_options(Evolve),
        method_of=_evolve_method,
        method_cls=Evolve,
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
        numerics=2,  # 2: status = RESULTS codes, Evolve's defaults (t_max, max_steps, tol = rtol/2)
    )


def _interband_continuation(along: str) -> SweepModel:
    """Rows along `along`: normal state + linear stability + continued paired branch
    (`interband.phase_map`)."""
    import functools

    from jax.lax.linalg import EigImplementation

    from ..interband import Continuation, Evolve
    from ..interband.phase_map import NOT_CONFIRMED, PHASES, phase_row

    base = _interband_model()
    results = dict(STATUS)

    def method_of(opt):
        confirm = Evolve(t_max=opt["confirm_t_max"]) if opt["confirm_t_max"] > 0 else None
        fields = {k: opt[k] for k in ("tol", "delta_floor", "max_jump")}
        eig = None if opt["eig"] == "auto" else EigImplementation(opt["eig"])
        return Continuation(**fields, quench=bool(opt["quench"]), confirm=confirm, eig=eig)

    def point(params, opt):
        row = phase_row(params, along, method_of(opt))
        skip = ("result", "work")  # the work counts are for benchmarks, not stored
        out = {f.name: getattr(row, f.name) for f in dataclasses.fields(row) if f.name not in skip}
        return dict(out, status=row.status)

    units = base.parameters.get(along, (along, "1"))[1]
    return dataclasses.replace(
        base,
        method="continuation",
        along=along,
        point=functools.wraps(phase_row)(point),
        options=_method_options(
            Continuation,
            confirm_t_max=Option(
                0.0,
                "Continuation.confirm = Evolve(t_max=...): evolve each transient or unsettled point "
                "from the paper's initial state for this long to confirm its phase [hbar/E_g] (0: none)",
                low=0.0,
            ),
            eig=Option(
                "auto",
                "Continuation.eig: eigenvalue implementation of the paired-branch stability "
                "check; auto: cusolver on NVIDIA GPUs where available, else lapack (host CPU)",
                kind=str,
                choices=("auto", "lapack", "cusolver", "magma"),
            ),
        ),
        method_of=method_of,
        method_cls=Continuation,
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
                needs="confirm_t_max",
            ),
            confirm_peak=Var(
                "largest |Delta| seen during the confirmation evolution (NaN where none ran)",
                "E_g",
                needs="confirm_t_max",
            ),
            confirm_status=Var(
                "outcome of the confirmation evolution",
                flags={**STORE_STATUS, **STATUS, NOT_CONFIRMED: "not evolved"},
                dtype=np.int32,
                needs="confirm_t_max",
            ),
        ),
        # per row: dense co-rotating Jacobian and LU factors (~4 copies) dominate
        # per row in flight, fitted to the compiled row program's memory_analysis() (batches of
        # 1-8 rows, N = 41 and 201: about 8 n^2 doubles per row; tests/test_accelerator.py)
        bytes_per_point=lambda p, o: 8 * 8 * _interband_size(p)[1] ** 2 + 8 * 200 * _interband_size(p)[1],
        status_names=results,
        chunk_size=256,
        numerics=2,  # 2: confirm_status = RESULTS codes
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


def method_name(name: str, method) -> str:
    """The name (as in `METHODS`) of the method object `method` of model `name`; a
    `TypeError` that lists the model's method classes for anything else."""
    kinds = {method_model(name, m).method_cls: m for m in METHODS.get(name, ())}
    if type(method) not in kinds:
        known = ", ".join(f"{c.__name__}(...)" for c in kinds if c is not None) or "no method objects"
        raise TypeError(f"method={method!r}: the {name} model takes {known} (or the name of a method).")
    return kinds[type(method)]


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
