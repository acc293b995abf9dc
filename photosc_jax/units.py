"""Unit conversions between phonon units and meV / THz / K (docs/model-longlived.md, "Units and symbols").

Inside the code of part II energies are measured in the phonon energy ω (the Raman mode, also
the BCS cutoff of Eqs. 4 and 7), lengths in ℓ0 = 1/√(Mω), times in 1/ω. Laboratory units
appear only at the edges, through the constants and helpers below.

- ħ = 0.6582119569 meV·ps
- k_B = 0.08617333262 meV/K
- h·(1 THz) = 2πħ·(1 THz) = 4.135667696 meV (a frequency f in THz, *not* an angular frequency:
  the paper's "Hg(3) at 22 THz" is ħω = h·22 THz = 90.98 meV).

All helpers are plain arithmetic and therefore jit/vmap/grad-safe.
"""

from __future__ import annotations

import math

HBAR_MEV_PS = 0.6582119569
"""ħ in meV·ps."""
KB_MEV_PER_K = 0.08617333262
"""Boltzmann constant k_B in meV/K."""
H_MEV_PER_THZ = 2.0 * math.pi * HBAR_MEV_PS
"""Planck constant h in meV per THz (energy h·f of a 1 THz frequency): 4.1357 meV."""


def thz_to_mev(f_thz):
    """Energy h·f in meV of a frequency f given in THz (cycles per ps)."""
    return f_thz * H_MEV_PER_THZ


def mev_to_thz(E_mev):
    """Frequency f = E/h in THz of an energy E given in meV."""
    return E_mev / H_MEV_PER_THZ


def kelvin_to_mev(T_K):
    """Thermal energy k_B·T in meV of a temperature in K."""
    return T_K * KB_MEV_PER_K


def mev_to_kelvin(E_mev):
    """Temperature E/k_B in K of an energy in meV."""
    return E_mev / KB_MEV_PER_K


def to_phonon_units(E_mev, omega_mev):
    """An energy in meV expressed in units of the phonon energy ħω (given in meV)."""
    return E_mev / omega_mev


def from_phonon_units(x, omega_mev):
    """An energy x·ħω (x in phonon units) expressed in meV."""
    return x * omega_mev


def phonon_units_to_kelvin(x, omega_mev):
    """A temperature x·ħω/k_B (x in phonon units) in K."""
    return mev_to_kelvin(x * omega_mev)


def kelvin_to_phonon_units(T_K, omega_mev):
    """A temperature in K expressed in units of ħω/k_B."""
    return kelvin_to_mev(T_K) / omega_mev


def phonon_time_to_ps(t, omega_mev):
    """A time t given in units of 1/ω (ħ/ħω) expressed in ps."""
    return t * HBAR_MEV_PS / omega_mev
