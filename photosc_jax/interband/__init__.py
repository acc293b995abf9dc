"""Driven-dissipative interband pairing (Porta, Privitera, Traverso Ziani, Sassetti,
Cavaliere, Trauzettel): params → grid/phonon tables → equations → evolve → steady state.

Entry points: `evolve(params, t_max)` (time evolution; pump pulses, a time-dependent Ω(t)
via `drive=`, are in `pulses`), `steady_state(params, method)` and `continuation(params,
name, values, method=...)` with a method object `Evolve(...)` or `Newton(...)`,
`phase_row(params, along, Continuation(...))` (one row of the phase map), and the normal
state's stability (`normal_steady_state`, `critical_V`, ...). Every result carries an
`outcomes.RESULTS` item (`result`) and `success`; `throw=True` raises `SolveError`."""

from .effective import effective_occupations as effective_occupations
from .equations import Coefficients as Coefficients
from .equations import coefficients as coefficients
from .equations import order_parameter as order_parameter
from .equations import vector_field as vector_field
from .evolve import EvolveResult as EvolveResult
from .evolve import evolve as evolve
from .grid import PhononTables as PhononTables
from .grid import effective_phonon_velocity as effective_phonon_velocity
from .grid import k_grid as k_grid
from .grid import phonon_jumps as phonon_jumps
from .grid import phonon_steps as phonon_steps
from .grid import phonon_tables as phonon_tables
from .methods import AbstractSteadyStateMethod as AbstractSteadyStateMethod
from .methods import Continuation as Continuation
from .methods import Evolve as Evolve
from .methods import Newton as Newton
from .normal_state import NormalState as NormalState
from .normal_state import normal_steady_state as normal_steady_state
from .outcomes import RESULTS as RESULTS
from .outcomes import SolveError as SolveError
from .paired_stability import PairedStability as PairedStability
from .paired_stability import paired_stability as paired_stability
from .params import InterbandParams as InterbandParams
from .phase_map import PhaseRow as PhaseRow
from .phase_map import RowWork as RowWork
from .phase_map import phase_row as phase_row
from .pulses import AbstractDrive as AbstractDrive
from .pulses import ConstantDrive as ConstantDrive
from .pulses import FlatTopPulse as FlatTopPulse
from .pulses import FunctionDrive as FunctionDrive
from .pulses import GaussianPulse as GaussianPulse
from .pulses import decay_time as decay_time
from .stability import Stability as Stability
from .stability import critical_Omega as critical_Omega
from .stability import critical_V as critical_V
from .stability import phase_boundary as phase_boundary
from .state import InterbandState as InterbandState
from .state import initial_state as initial_state
from .stationary import continuation as continuation
from .stationary import steady_state as steady_state
from .steady import Stationarity as Stationarity
from .steady import SteadyState as SteadyState
from .steady import stationarity as stationarity
