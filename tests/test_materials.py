"""K3C60 mapping and units (App. D; docs/model-longlived.md)."""

import pytest

import photosc_jax  # noqa: F401
from photosc_jax import units
from photosc_jax.longlived import materials as mat
from photosc_jax.longlived import metastability as ms


def test_units():
    assert units.thz_to_mev(22.0) == pytest.approx(90.985, abs=1e-3)
    assert units.kelvin_to_mev(100.0) == pytest.approx(8.617, abs=1e-3)
    assert units.mev_to_kelvin(units.kelvin_to_mev(42.0)) == pytest.approx(42.0)
    assert units.phonon_time_to_ps(1.0, mat.OMEGA_MEV) == pytest.approx(0.6582 / 90.985, rel=1e-4)


def test_k3c60_parameters():
    p = mat.k3c60(1.0)
    assert float(p.DeltaE) == pytest.approx(250 / 90.985, rel=1e-5)
    assert float(p.nu) == pytest.approx(0.603)
    p5 = mat.k3c60(5.0)
    assert float(p5.DeltaE) == pytest.approx(float(p.DeltaE) / 5) and float(p5.nu) == pytest.approx(3.015)
    assert float(p5.lam0) == 0.3


def test_tc_implied_by_lambda0():
    assert float(mat.critical_temperature_K(0.3)) == pytest.approx(42.7, abs=0.1)  # not 20 K
    lam20 = float(mat.lam0_for_tc(20.0))
    assert float(mat.critical_temperature_K(lam20)) == pytest.approx(20.0, rel=1e-9)


def test_z_scan_thresholds():
    th = mat.k3c60_thresholds()
    z0, z2, z3 = th["metastability_onset"], th["metastable_I_to_II"], th["undistorted_unstable"]
    assert 1 < z0 < z2 < z3
    r = mat.k3c60_scan(
        [2.0, z0 * (1 - 1e-6), z0 * (1 + 1e-6), z2 * (1 + 1e-6), z3 * (1 - 1e-6), z3 * (1 + 1e-6)]
    )
    assert [int(x) for x in r.regime] == [0, 0, 1, 2, 2, 3]
    assert abs(float(ms.analyze(mat.k3c60(z3), with_T_B=False).h0)) < 1e-9
