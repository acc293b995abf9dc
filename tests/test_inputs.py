"""Bad input, as an independent campaign of bad inputs found it (issue 29, item 5): values
outside the models' physical ranges, a parameter both swept and fixed, a row method on a
row too short or out of order, grids too large to hold, and Python arguments of the wrong
kind. Each is refused before any compute with one line that says what to change; no
numpy or jax message reaches the user. Sweeps here fail before compiling, or use the
metastability model (fast)."""

import re
import time
from pathlib import Path

import jax
import numpy as np
import pytest

import photosc_jax.sweeps.spec as spec_mod
from photosc_jax.interband.params import RANGES as INTERBAND_RANGES
from photosc_jax.interband.params import InterbandParams
from photosc_jax.longlived.metastability import RANGES as METASTABILITY_RANGES
from photosc_jax.longlived.metastability import MetastabilityParams
from photosc_jax.sweeps import sweep
from photosc_jax.sweeps.models import get_model
from photosc_jax.sweeps.spec import check_memory, differences, make_spec

DOCS = Path(__file__).resolve().parents[1] / "docs"
AXES = {"DeltaE": [1.0, 2.0], "nu": [1.0, 2.0]}
KW = dict(progress=False)
TABLES = [
    (InterbandParams, {}, INTERBAND_RANGES, "model-interband.md"),
    (MetastabilityParams, {"DeltaE": 1.0, "nu": 1.0}, METASTABILITY_RANGES, "model-longlived.md"),
]
CASES = [
    (cls, base, name, r)
    for cls, base, table, _ in TABLES
    for name, r in table.items()
    if name != "n_grid"  # an int field: its own case below
]


def _one_line(err) -> str:
    text = str(err.value)
    assert "\n" not in text, text
    return text


def _outside(r):
    """Values just outside a range, on each side that has a bound."""
    below = r.low if r.open_low else r.low - max(1.0, abs(r.low))
    return [r.high * 1.5 if r.high > 0 else r.high + 1.0, below]


# ---------------------------------------------------------------------------------------
# The models' ranges: one table per class, refused with which, the value, the range, why


def test_the_campaigns_V_is_refused_with_the_range_and_why():
    with pytest.raises(ValueError) as err:
        InterbandParams(V=1e300)
    assert _one_line(err) == (
        "InterbandParams.V = 1e+300: outside the model's range |V| <= 1000 E_g (pairing sets in "
        "at V ≈ 2 at the paper's parameters; at |V| = 1000 the pairing field |Δ| ≲ |V| k_max/2π "
        "dwarfs the gap, outside the two-band mean-field model)."
    )
    # the sweep refuses it at its grid point, before any compute
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"^Grid point \{'V': 1e\+300\}: InterbandParams\.V = 1e\+300: "):
        sweep("interband", {"V": "1e300:1.7e308:3"}, **KW)
    assert time.perf_counter() - t0 < 10


@pytest.mark.parametrize("cls, base, name, r", CASES, ids=[f"{c.__name__}.{n}" for c, _, n, _ in CASES])
def test_every_parameter_outside_its_range_is_refused(cls, base, name, r):
    for x in _outside(r):
        with pytest.raises(ValueError) as err:
            cls(**{**base, name: x})
        text = _one_line(err)
        assert text.startswith(f"{cls.__name__}.{name} = {x:g}: outside the model's range {r.text(name)} (")
        assert text.endswith(f"({r.why}).")
    with pytest.raises(
        ValueError, match=rf"^{cls.__name__}\.{name} = nan: not finite; the model's range is "
    ):
        cls(**{**base, name: float("nan")})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(detuning=-1.0),
            "InterbandParams.detuning = -1: outside the model's range -1 < detuning <= 10 E_g",
        ),
        (dict(Omega=-2.5), r"InterbandParams.Omega = -2.5: outside the model's range \|Omega\| <= 2 E_g"),
        (dict(k_max=4.0, dk=0.01), r"InterbandParams.k_max = 4: outside .* 0 < k_max <= 3.14159 1/a"),
    ],
)
def test_interband_range_edges(kwargs, message):
    """ν = E_g + detuning must be positive (detuning = −1 excluded); Ω is bounded on both
    sides; the box lies in the Brillouin zone. The bounds themselves are allowed."""
    with pytest.raises(ValueError, match=f"^{message}"):
        InterbandParams(**kwargs)
    InterbandParams(detuning=-0.999, Omega=-2.0, V=-1000.0, gamma_ph=1.0, gamma_rr=1.0, T=1.0)
    InterbandParams(detuning=10.0, Omega=2.0, V=1000.0)


def test_grid_size_is_bounded():
    with pytest.raises(
        ValueError, match=r"^MetastabilityParams\.n_grid = 4: outside the model's range 8 <= n_grid"
    ):
        MetastabilityParams(1.0, 1.0, n_grid=4)
    with pytest.raises(ValueError, match=r"^MetastabilityParams\.n_grid = 2e\+06: outside"):
        MetastabilityParams(1.0, 1.0, n_grid=2_000_000)


def test_arrays_are_checked_elementwise_and_traced_values_not_at_all():
    """A batch of concrete values names its first bad value; inside jit / vmap nothing is
    checked, so the classes stay traceable."""
    with pytest.raises(ValueError, match=r"^MetastabilityParams\.nu = 200: outside"):
        MetastabilityParams(np.array([1.0, 1.5]), np.array([2.0, 200.0]))
    assert float(jax.jit(lambda V: InterbandParams(V=V).V)(1e300)) == 1e300
    out = jax.vmap(lambda d: MetastabilityParams(d, 1.0).DeltaE)(np.array([1e-9, 1e9]))
    np.testing.assert_array_equal(np.asarray(out), [1e-9, 1e9])


@pytest.mark.parametrize("cls, base, table, page", TABLES, ids=["interband", "metastability"])
def test_ranges_are_documented_in_the_class_and_the_docs(cls, base, table, page):
    docs = (DOCS / page).read_text().replace("\\|", "|")
    for name, r in table.items():
        assert f"`{r.text(name)}`" in cls.__doc__, (name, r.text(name))
        assert f"`{r.text(name)}`" in docs, (name, r.text(name))


# ---------------------------------------------------------------------------------------
# Sweeps: parameters both swept and fixed, row methods, large grids


def test_a_parameter_both_swept_and_fixed_is_refused():
    with pytest.raises(ValueError) as err:
        sweep("interband", {"V": "1:7:4"}, fixed={"V": 3}, **KW)
    assert _one_line(err) == (
        "The parameter V is given in both axes ([1.0, 3.0, 5.0, 7.0]) and fixed (3): keep it in "
        "axes to sweep it or in fixed to fix it."
    )
    with pytest.raises(
        ValueError, match=r"^The parameter nu is given in both axes \(\[1\.0, 2\.0\]\) and fixed \(1\.5\)"
    ):
        sweep("metastability", AXES, fixed={"nu": 1.5}, **KW)


def test_a_row_method_needs_two_values_in_order_along_its_axis():
    with pytest.raises(ValueError) as err:
        sweep("interband", {"Omega": "0.25:0.25:1", "V": "1:7:12"}, along="Omega", **KW)
    assert _one_line(err) == (
        "The continuation method solves rows along Omega and needs 2 or more values of it, got "
        "0.25 only: sweep Omega over a range (e.g. --Omega a:b:n) or choose --along among V."
    )
    with pytest.raises(ValueError, match=r"got 5 only: sweep V over a range \(e\.g\. --V a:b:n\)\.$"):
        sweep("interband", {"V": [5.0]}, method="continuation", **KW)
    with pytest.raises(ValueError) as err:
        sweep("interband", {"Omega": [0.1, 0.3, 0.2], "V": "1:7:12"}, along="Omega", **KW)
    assert _one_line(err) == (
        "The continuation method walks each row along Omega from one end to the other: give the "
        "values of Omega in increasing or decreasing order, got [0.1, 0.3, 0.2]."
    )
    m = get_model("interband", "continuation", "V")
    assert make_spec(m, {"V": [3.0, 2.0]}, {}, {}, None)["axes"]["V"] == [3.0, 2.0]  # decreasing is a row


@pytest.fixture
def small_host(monkeypatch):
    """A machine with 16 GB (host and CPU device memory), whatever this one has."""
    monkeypatch.setattr(spec_mod, "host_memory", lambda: 16 * 10**9)


def test_a_huge_grid_is_refused_at_once_by_its_results(small_host, tmp_path):
    """The campaign's 10⁵ x 10⁵ grid: refused in well under a second (no per-value work, no
    numpy allocation) by the size of its in-memory results."""
    t0 = time.perf_counter()
    with pytest.raises(MemoryError) as err:
        sweep("interband", {"Omega": "0:1:100000", "V": "0:8:100000"}, **KW)
    assert time.perf_counter() - t0 < 10
    assert re.fullmatch(
        r"The results of this sweep need about \d+ GB in memory \(10000000000 points x \d+ "
        r"outputs\), more than half of the 16 GB of this machine\. Sweep fewer points, or split "
        r"the grid into several sweeps \(one store each\)\.",
        _one_line(err),
    ), str(err.value)


def test_results_count_whole_also_with_a_store(small_host, monkeypatch, tmp_path):
    """A sweep returns its whole dataset, also when it writes a store: the results over the
    whole grid are counted either way, and the store is not made."""
    big = {"DeltaE": [1.0], "nu": np.linspace(0.5, 3.0, 200_000)}  # 2·10⁵ points
    model = get_model("metastability")
    spec = make_spec(model, big, {}, {}, 200_000)
    cpu = jax.devices("cpu")[:1]
    assert check_memory(model, spec, cpu, 1) == 8 * 400 * 128
    monkeypatch.setattr(spec_mod, "host_memory", lambda: 10**7)  # a 10 MB machine
    with pytest.raises(MemoryError, match=r"GB in memory \(200000 points x 7 outputs\), .* Sweep fewer"):
        check_memory(model, spec, cpu, 1)
    with pytest.raises(MemoryError, match=r"GB in memory"):
        sweep("metastability", big, out=str(tmp_path / "s.zarr"), chunk_size=100, **KW)
    assert not (tmp_path / "s.zarr").exists()  # refused before the store was made


def test_long_axes_are_checked_by_their_extremes():
    """Checking the values of 10⁶-point axes costs no more than a short one (the corners of
    the grid); a value outside the range anywhere on an axis is one of its extremes."""
    from photosc_jax.sweeps.arguments import validate_points

    model = get_model("metastability")
    spec = make_spec(
        model, {"DeltaE": np.linspace(0.5, 2, 10**6), "nu": np.linspace(1, 3, 10**6)}, {}, {}, None
    )
    t0 = time.perf_counter()
    validate_points(model, spec)
    assert time.perf_counter() - t0 < 2
    spec["axes"]["nu"][-1] = 101.0
    with pytest.raises(
        ValueError, match=r"^Grid point \{'DeltaE': 0\.5, 'nu': 101\.0\}: MetastabilityParams\.nu = 101"
    ):
        validate_points(model, spec)


# ---------------------------------------------------------------------------------------
# Python arguments of the wrong kind or value: one line, what to change


WHOLE_CHUNK = "--chunk-size must be a whole number >= 1, got "
SHARD = ": need a pair (i, n) of whole numbers 0 <= i < n (e.g. --shard 0/4)."
WORKERS = ": use a whole number >= 1 (an int) or 'auto'."
REAL_AXIS = " must be a non-empty list of real numbers or the text 'a:b:n', got "
BAD_ARGUMENTS = [
    (
        ("interband", None),
        {},
        TypeError,
        "axes=None: give a mapping {parameter: values}, e.g. {'V': '1:7:13'} or {'V': [1.0, 2.0]}.",
    ),
    (("interband", {"V": [1 + 2j]}), {}, ValueError, "The axis V" + REAL_AXIS + "[(1+2j)]."),
    (
        ("interband", {"Omega": [True, False]}),
        {},
        ValueError,
        "The axis Omega" + REAL_AXIS + "[True, False].",
    ),
    (
        ("metastability", {"nu": [[1.0, 2.0], [3.0]]}),
        {},
        ValueError,
        "The axis nu" + REAL_AXIS + "[[1.0, 2.0], [3.0]].",
    ),
    (("metastability", {"nu": ["1", "2"]}), {}, ValueError, "The axis nu" + REAL_AXIS + "['1', '2']."),
    (("metastability", {"nu": []}), {}, ValueError, "The axis nu" + REAL_AXIS + "[]."),
    (
        ("metastability", {"nu": [1.0, np.inf]}),
        {},
        ValueError,
        "The axis nu contains a value that is not finite (inf).",
    ),
    (
        ("metastability", {"nu": [1.0, 2.0, 1.0]}),
        {},
        ValueError,
        "The axis nu repeats a value (1); give distinct values.",
    ),
    (
        ("metastability", AXES),
        dict(vmap_width=-1),
        ValueError,
        "vmap_width=-1: use a whole number >= 1 (an int: points per vmapped solve), None (all of a "
        "device's points) or 'auto'.",
    ),
    (
        ("metastability", AXES),
        dict(vmap_width="all"),
        ValueError,
        "vmap_width='all': use a whole number >= 1 (an int: points per vmapped solve), None (all "
        "of a device's points) or 'auto'.",
    ),
    (("metastability", AXES), dict(chunk_size="abc"), ValueError, WHOLE_CHUNK + "'abc'."),
    (("metastability", AXES), dict(chunk_size=[3]), ValueError, WHOLE_CHUNK + "[3]."),
    (("metastability", AXES), dict(chunk_size=2.5), ValueError, WHOLE_CHUNK + "2.5."),
    (("metastability", AXES), dict(chunk_size=True), ValueError, WHOLE_CHUNK + "True."),
    (("metastability", AXES), dict(shard=5), ValueError, "shard=5" + SHARD),
    (("metastability", AXES), dict(shard=(0,)), ValueError, "shard=(0,)" + SHARD),
    (("metastability", AXES), dict(shard=(2, 2)), ValueError, "shard=(2, 2)" + SHARD),
    (("metastability", AXES), dict(shard=(0.0, 2)), ValueError, "shard=(0.0, 2)" + SHARD),
    (
        ("metastability", AXES),
        dict(devices="cpu"),
        TypeError,
        "devices='cpu': give a non-empty list of distinct JAX devices (e.g. jax.devices()[:2]) or "
        "None (all of them).",
    ),
    (
        ("metastability", AXES),
        dict(devices=[]),
        TypeError,
        "devices=[]: give a non-empty list of distinct JAX devices (e.g. jax.devices()[:2]) or "
        "None (all of them).",
    ),
    (("metastability", AXES), dict(workers=True), ValueError, "workers=True" + WORKERS),
    (("metastability", AXES), dict(workers=0), ValueError, "workers=0" + WORKERS),
    (("metastability", AXES), dict(workers="many"), ValueError, "workers='many'" + WORKERS),
    (
        ("metastability", AXES),
        dict(options="T"),
        TypeError,
        "options='T': give a mapping {name: value} or None.",
    ),
    (("metastability", AXES), dict(options={"T": "hot"}), ValueError, "--T must be a number, got 'hot'."),
    (("metastability", AXES), dict(options={"T": True}), ValueError, "--T must be a number, got True."),
    (
        ("metastability", AXES),
        dict(fixed=["G"]),
        TypeError,
        "fixed=['G']: give a mapping {name: value} or None.",
    ),
    (
        ("metastability", AXES),
        dict(fixed={"G": 1j}),
        ValueError,
        "The parameter G must be a number, got 1j.",
    ),
    (
        ("metastability", AXES),
        dict(out=3),
        TypeError,
        "out=3: give the path of a zarr store (str or os.PathLike) or None.",
    ),
    (
        ("metastability", AXES),
        dict(stop=True),
        TypeError,
        "stop=True: give a function of no arguments (True: stop) or None.",
    ),
]


@pytest.mark.parametrize("args, kwargs, error, message", BAD_ARGUMENTS)
def test_python_arguments_of_the_wrong_kind_are_one_line(args, kwargs, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$") as err:
        sweep(*args, **{**KW, **kwargs})
    assert err.type is error  # not a subclass raised from deep inside numpy or jax
    _one_line(err)


def test_devices_may_not_repeat():
    dev = jax.devices()[0]
    with pytest.raises(TypeError, match=r"^devices=\[.*\]: give a non-empty list of distinct JAX devices"):
        sweep("metastability", AXES, devices=[dev, dev], **KW)


def test_a_spec_mismatch_names_the_axis():
    m = get_model("metastability")
    a = make_spec(m, AXES, {}, {}, None)
    b = make_spec(m, {**AXES, "nu": [1.0, 3.0]}, {"G": 0.5}, {"T": 0.01}, None)
    assert differences(a, b) == [
        "axis nu: store has [1.0, 2.0], now [1.0, 3.0]",
        "parameter G: store has 0.6, now 0.5",
        "option T: store has 0.0, now 0.01",
    ]
