"""Parameters of the driven-dissipative two-band model (Porta et al., Sec. II).

Units: E_g = ħ = k_B = 1 (energies and rates in E_g, times in ħ/E_g, momenta in
inverse lattice constants). See docs/model-interband.md.
"""

from __future__ import annotations

import math

import equinox as eqx
from jaxtyping import Array, Float

from .._checks import Range, as_float, check_ranges, concrete

# v = 0.098 makes v/A1 exactly 7 grid steps at the Fig. 2 parameters (A1 = 7, dk = 2e-3).
DEFAULT_PHONON_VELOCITY = 0.098


def phonon_shift(A: float, v: float, dk: float) -> int:
    """Grid steps a phonon emission moves an electron by: round(v / (A dk)), halves away
    from zero (docs/model-interband.md)."""
    return int(math.floor(v / (A * dk) + 0.5))


PHONON_TARGETS = ("nearest", "linear")

_CURVATURE = (
    "a band curvature ħ²/2m*, positive: both bands curve up, paper Sec. II; 10⁴ E_g a² is "
    "m* ≈ 4·10⁻³ m_e even at E_g = 10 meV, a = 3 Å; the paper: 7–24"
)
_RATE = (
    "a Born–Markov rate must be small against the gap: Γ = E_g broadens the levels over the "
    "whole gap; the paper: 0.002–0.02"
)

# The range of each parameter the model describes (units E_g = ħ = k_B = 1, lengths in the
# lattice constant a); the class docstring and docs/model-interband.md list it.
RANGES = {
    "A1": Range(0.0, 1e4, "E_g a²", _CURVATURE, open_low=True),
    "A2": Range(0.0, 1e4, "E_g a²", _CURVATURE, open_low=True),
    "Omega": Range(
        -2.0,
        2.0,
        "E_g",
        "the rotating-wave approximation needs |Ω| ≪ ν ≈ E_g: at |Ω| = 2 E_g the Bloch–Siegert "
        "shift Ω²/4ν it neglects is the whole gap; the paper: 0.25",
    ),
    "V": Range(
        -1e3,
        1e3,
        "E_g",
        "pairing sets in at V ≈ 2 at the paper's parameters; at |V| = 1000 the pairing field "
        "|Δ| ≲ |V| k_max/2π dwarfs the gap, outside the two-band mean-field model",
    ),
    "gamma_ph": Range(0.0, 1.0, "E_g/ħ", _RATE),
    "gamma_rr": Range(0.0, 1.0, "E_g/ħ", _RATE),
    "v": Range(
        0.0,
        10.0,
        "E_g a/ħ",
        "a sound velocity, positive; 10 E_g a/ħ is 4.6·10⁶ m/s at E_g = 1 eV, a = 3 Å, 250 times "
        "the fastest sound in solids; default 0.098",
        open_low=True,
    ),
    "T": Range(
        0.0,
        1.0,
        "E_g/k_B",
        "a temperature, >= 0; a bath at T ≈ E_g would excite electrons across the gap, which the "
        "model's intraband phonons do not describe; the paper: 0",
    ),
    "detuning": Range(
        -1.0,
        10.0,
        "E_g",
        "the laser frequency ν = E_g + detuning must be positive, and a photon above 11 E_g "
        "reaches bands the two-band model leaves out; the paper: 0",
        open_low=True,
    ),
    "k_max": Range(
        0.0,
        math.pi,
        "1/a",
        "the momentum box lies in the Brillouin zone, |k| <= π/a; the paper: 0.2",
        open_low=True,
    ),
    "dk": Range(
        0.0,
        math.pi,
        "1/a",
        "a grid step, positive and at most k_max, the grid size bounded by memory in sweeps; "
        "the paper: 2·10⁻³",
        open_low=True,
    ),
}


class InterbandParams(eqx.Module):
    """Physical and numerical parameters of the laser-driven two-band semiconductor.

    Bands E_1(k) = A1 k² − 1/2 and E_2(k) = A2 k² + 1/2 (paper Eq. B1), driven by a laser of
    frequency ν = E_g + `detuning` (the paper: ν = E_g) with Rabi frequency `Omega` (Eq. 1,
    rotating-wave approximation),
    interband repulsion `V` entering the self-consistent order parameter
    Δ* = (V dk / 2π) Σ_k s21_k (Eq. B3), acoustic phonons of velocity `v` at temperature `T`
    with constant rate `gamma_ph` (Eq. 9), radiative recombination rate `gamma_rr` (Eq. 10).
    The momentum grid is k_j = −k_max + j·dk, j = 0…N−1, N = round(2 k_max/dk) + 1.

    **Arguments** (all in units of E_g = ħ = 1; defaults are the paper's Fig. 2–3 set):

    - `A1`, `A2`: band curvatures (> 0, same concavity). Default 7, 24.
    - `Omega`: Rabi frequency Ω. Default 0.25.
    - `V`: interband interaction strength (either sign). Default 5.
    - `gamma_ph`: phonon rate Γph ≥ 0 (jump rate 2Γph(1 + n_B)). Default 0.02.
    - `gamma_rr`: radiative recombination rate Γrr ≥ 0 (jump rate 2Γrr). Default Γph/10 = 0.002.
    - `v`: acoustic phonon velocity (> 0). Not given by the paper; default 0.098
      (v/A1 = 7 grid steps at the defaults). At Fig. 3 parameters |Δ| rises by 11 % from
      v = 0.090 to 0.130 (μ by < 0.2 %); see `phonon_targets`.
    - `T`: bath temperature ≥ 0 (k_B = 1). Default 0.
    - `detuning`: ν − E_g, the laser's detuning from the gap (either sign). Default 0 (the
      paper). In the frame rotating at ν the bands are A1 k² + detuning/2 and
      A2 k² − detuning/2: for detuning > 0 the drive is resonant on the ring
      (A2 − A1) k² = detuning, k_r = √(detuning/(A2 − A1)); for detuning < 0 nowhere.
    - `phonon_targets`: where an emission lands when v/(A_α dk) is not a whole number of
      grid steps: `"nearest"` (default, the paper's rule: the nearest grid point, so
      results are a staircase in v) or `"linear"` (split between the two neighbours with
      linear weights: continuous and differentiable in v). Static (changing it recompiles).
      See `grid.phonon_jumps` and docs/model-interband.md.
    - `k_max`, `dk`: half-width of the momentum box (the paper's δ_k) and grid step. These
      fix array shapes, so they are static (changing them recompiles). Defaults 0.2, 2e-3.

    **Ranges** (`RANGES`, one table; docs/model-interband.md): the values the model
    describes, generous but bounded where its approximations (rotating wave, Born–Markov
    rates, a two-band mean field) or float64 arithmetic stop making sense:

    - `0 < A1 <= 10000 E_g a²`, `0 < A2 <= 10000 E_g a²`: positive band curvatures;
      10⁴ E_g a² is m* ≈ 4·10⁻³ m_e even at E_g = 10 meV, a = 3 Å.
    - `|Omega| <= 2 E_g`: the rotating-wave approximation needs |Ω| ≪ ν ≈ E_g; at 2 E_g
      the Bloch–Siegert shift Ω²/4ν it neglects is the whole gap.
    - `|V| <= 1000 E_g`: beyond, the pairing field |Δ| ≲ |V| k_max/2π dwarfs the gap
      (pairing sets in at V ≈ 2).
    - `0 <= gamma_ph <= 1 E_g/ħ`, `0 <= gamma_rr <= 1 E_g/ħ`: Born–Markov rates, small
      against the gap.
    - `0 < v <= 10 E_g a/ħ`: 250 times the fastest sound in solids at E_g = 1 eV, a = 3 Å.
    - `0 <= T <= 1 E_g/k_B`: a bath at T ≈ E_g would excite across the gap, which
      intraband phonons do not describe.
    - `-1 < detuning <= 10 E_g`: ν = E_g + detuning > 0, and a photon above 11 E_g reaches
      bands the model leaves out.
    - `0 < k_max <= 3.14159 1/a` (the Brillouin zone), `0 < dk <= 3.14159 1/a` with
      dk <= k_max and 2 k_max/dk whole.

    Besides, the phonon step v/A must span at least one grid step and less than the box
    (both monotone in v/A). Construction validates concrete values (scalars, or arrays
    elementwise) and raises a one-line `ValueError` naming the parameter, its value, the
    range and why. Parameters may also be JAX tracers (inside `jit`/`vmap`/`grad`); then
    only the static fields are checked.
    """

    A1: Float[Array, ""] = eqx.field(default=7.0, converter=as_float)
    A2: Float[Array, ""] = eqx.field(default=24.0, converter=as_float)
    Omega: Float[Array, ""] = eqx.field(default=0.25, converter=as_float)
    V: Float[Array, ""] = eqx.field(default=5.0, converter=as_float)
    gamma_ph: Float[Array, ""] = eqx.field(default=0.02, converter=as_float)
    gamma_rr: Float[Array, ""] = eqx.field(default=0.002, converter=as_float)
    v: Float[Array, ""] = eqx.field(default=DEFAULT_PHONON_VELOCITY, converter=as_float)
    T: Float[Array, ""] = eqx.field(default=0.0, converter=as_float)
    detuning: Float[Array, ""] = eqx.field(default=0.0, converter=as_float)
    phonon_targets: str = eqx.field(default="nearest", static=True)
    k_max: float = eqx.field(default=0.2, static=True, converter=float)
    dk: float = eqx.field(default=2e-3, static=True, converter=float)

    def __check_init__(self):
        _validate(self)

    @property
    def n_k(self) -> int:
        """Number of grid points N = round(2 k_max / dk) + 1."""
        return int(round(2.0 * self.k_max / self.dk)) + 1


_FIELDS = ("A1", "A2", "Omega", "V", "gamma_ph", "gamma_rr", "v", "T", "detuning")


def _validate(p: InterbandParams) -> None:
    if p.phonon_targets not in PHONON_TARGETS:
        raise ValueError(
            f"phonon_targets={p.phonon_targets!r}: choose 'nearest' (the paper's rounding, "
            "the default) or 'linear' (split between the two neighbouring grid points)."
        )
    check_ranges(p, RANGES)
    if p.dk > p.k_max * (1 + 1e-12):
        raise ValueError(
            f"dk={p.dk} must not exceed k_max={p.k_max}: the grid would have fewer than "
            "3 points (dk = k_max gives the smallest grid, {-k_max, 0, k_max}). "
            "The paper uses k_max=0.2, dk=2e-3."
        )
    ratio = 2.0 * p.k_max / p.dk
    if abs(ratio - round(ratio)) > 1e-6 * ratio:
        raise ValueError(
            f"2*k_max/dk = {ratio:.6g} is not a whole number, so the grid would not end at "
            f"±k_max. Choose dk = 2*k_max/(N-1) for an integer N."
        )
    v = concrete(p.v)
    n = p.n_k
    for band in ("A1", "A2"):
        A = concrete(getattr(p, band))
        if A is None or v is None:
            continue
        step = v / A
        if step < p.dk:
            raise ValueError(
                f"The phonon momentum step v/{band} = {step:.4g} is smaller than the grid step "
                f"dk = {p.dk:.4g}: phonon emission in band {band[-1]} is not resolved. Use "
                f"dk <= {step:.4g} (e.g. dk = {step / 2:.3g}) or a larger v."
            )
        lowest = phonon_shift(A, v, p.dk) if p.phonon_targets == "nearest" else math.floor(step / p.dk)
        if lowest >= n:
            raise ValueError(
                f"The phonon momentum step v/{band} = {step:.4g} exceeds the box width "
                f"2*k_max = {2 * p.k_max:.4g}: no state in band {band[-1]} can emit a phonon. "
                "Use a smaller v or a larger k_max."
            )
