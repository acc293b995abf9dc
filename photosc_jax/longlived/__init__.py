"""Long-lived photo-induced superconductivity (Chattopadhyay, Eckhardt, Kennes, Sentef, Shin,
Rubio, Cavalleri, Demler, Michael): U(Q) → BCS free energies → metastability landscape →
K3C60; quasi-particle lifetimes; Langevin dynamics of Q and trapping by a pulse.

Modules (phonon units inside: energies in ω, lengths in ℓ0 = 1/√(Mω), times in 1/ω):

- `bcs`: gap equation (Eq. 10), free energy (Eqs. 7, 9), T_c, closed forms.
- `quasiparticle_trapping`: the gap at a frozen quasi-particle number n* (Eqs. 9–11, global
  minimum and every branch), its lifetime and the Fig. 4a quench-and-release protocol.
- `attraction`: U(Q) (Eq. 5) and the oscillating-phonon attraction (Eq. 14).
- `metastability`: landscapes E(Q), F(Q, T); Q_B, Q_MS, E_B, T_B; classes; phase diagram (Fig. 2).
- `materials`: K3C60 and its Mott renormalisation (App. D).
- `lifetimes`: golden-rule rates (Eqs. C3–C5) and τ_g (Eqs. 12–13, corrected).
- `langevin`: the corrected Eq. 6 as an SDE.
- `trapping`: phonon trapping by a pulse (spinodal force, threshold amplitude).

The model and every corrected paper equation are documented in `docs/model-longlived.md`.
"""

from . import attraction as attraction
from . import bcs as bcs
from . import langevin as langevin
from . import lifetimes as lifetimes
from . import materials as materials
from . import metastability as metastability
from . import quasiparticle_trapping as quasiparticle_trapping
from . import trapping as trapping
from .materials import k3c60 as k3c60
from .metastability import MetastabilityParams as MetastabilityParams
from .metastability import MetastabilityResult as MetastabilityResult
from .metastability import analyze as analyze
