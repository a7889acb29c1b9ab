"""Density-field family: Kac / Swift-Hohenberg functionals, relaxation, Langevin dynamics, nucleation.

After Barros & Klein, J. Chem. Phys. 139, 174505 (2013), doi:10.1063/1.4827397. Solvers:

* :class:`SemiImplicit` — semi-implicit spectral stepping (scipy.fft + numba local part);
* :class:`ExplicitFD` — explicit finite differences in real space (the reference);

and the saddle solvers for :class:`~problems.density_field.NucleationBarrier`, one module each:

* :class:`RadialNewtonKrylov` (``radial_newton``) — spherically symmetric (onion) droplets in 3D by
  Newton-Krylov on the radial profile (operators in ``radial``);
* :class:`StringMethod` (``string_method``) — climbing string method on the grid (E, Ren &
  Vanden-Eijnden 2007);
* :class:`GridNewtonKrylov` (``grid_newton``) — Newton-Krylov on the full grid from a seeded droplet;
* :class:`DimerMethod` (``dimer``) — min-mode following dimer / gentlest-ascent dynamics (Henkelman &
  Jónsson 1999; E & Zhou 2011) from a seeded droplet, rotation by Lanczos on the exact Hessian-vector
  product;
* :class:`SizeScan` (``size_scan``, below).

What they share (Newton-Krylov polish, the Lanczos index check, the result with no NaN) is in
``saddle``. The problem builders (``kac_landau_field``, ``onion_barrier``, ``bcc_droplet_seed``, ...)
live in :mod:`problems.density_field`; the family registers them as its spec vocabulary here.

:class:`SizeScan` (module ``size_scan``) finds a saddle as the top of the minimum free energy at
fixed droplet size, polishes it by Newton-Krylov and, when the scan jumps between shape branches or
lands on a critical point of index > 1, continues automatically (Newton from the branch midpoint,
dimer descent of the extra unstable modes, Newton) until the Lanczos index check finds index 1;
it is how the science map of ``benchmarks/field.py --science`` leaves symmetric higher-index
critical points. :func:`size_scan_saddle` is its functional form.
"""

import toolkit as tk
from problems.density_field import (DensityField, Functional, KacStep, Landau, LatticeGas, SwiftHohenberg,
                                    kac_landau_field, kac_lattice_gas_field, onion_barrier, relaxation,
                                    swift_hohenberg_field)

from .dimer import DimerMethod, lowest_mode
from .finite_difference import ExplicitFD
from .functional import SpectralOps
from .grid_newton import GridNewtonKrylov
from . import memory  # noqa: F401  (registers the pairs' memory estimates)
from .radial_newton import RadialNewtonKrylov
from .saddle import hessian_eigenvalues, newton_polish
from .size_scan import SizeConstrainedMinimizer, SizeScan, descend_to_index_one, droplet_size, size_scan_saddle
from .solution import BarrierSolution, FieldSolution, RelaxationSolution
from .spectral import SemiImplicit
from .string_method import StringMethod
from .tour import tour_cases

__all__ = ["SemiImplicit", "ExplicitFD", "RadialNewtonKrylov", "GridNewtonKrylov", "newton_polish", "StringMethod",
           "DimerMethod", "lowest_mode", "hessian_eigenvalues", "SpectralOps", "FieldSolution", "RelaxationSolution",
           "BarrierSolution", "SizeScan", "SizeConstrainedMinimizer", "descend_to_index_one", "droplet_size",
           "size_scan_saddle"]

tk.register_family(tk.Family(
    name="density-field",
    title="Density fields with Kac interactions: relaxation, Langevin dynamics, nucleation",
    tour=tour_cases,
    builders={"kac_landau_field": kac_landau_field, "kac_lattice_gas_field": kac_lattice_gas_field,
              "swift_hohenberg_field": swift_hohenberg_field, "relaxation": relaxation,
              "onion_barrier": onion_barrier},
    components={"DensityField": DensityField, "Functional": Functional, "KacStep": KacStep,
                "SwiftHohenberg": SwiftHohenberg, "LatticeGas": LatticeGas, "Landau": Landau},
))

# Files saved before the saddle solvers got a module each name them by their old module.
for _cls in (GridNewtonKrylov, RadialNewtonKrylov, StringMethod):
    tk.records.register_alias(f"solvers.density_field.barrier:{_cls.__name__}", _cls)
del _cls
