"""Generate solvers/lattice_boltzmann/fastpath.py: unrolled periodic BGK kernels."""
import sys
import os
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from fractions import Fraction

import numpy as np
from solvers.lattice_boltzmann.lattices import lattice, mrt_basis

def internal_c(name):
    lat = lattice(name)
    perm = (0, 2, 1) if name == "D2Q9" else (0, 1, 2)
    return np.ascontiguousarray(lat.c[:, list(perm)])

def term(coef, var):
    if coef == 0: return None
    return (("+ " if coef > 0 else "- ") + var)

def lin(cvec, vars_):
    parts = [t for t in (term(int(cc), v) for cc, v in zip(cvec, vars_)) if t]
    if not parts: return "0.0"
    s = " ".join(parts)
    return s[2:] if s.startswith("+ ") else "-" + s[2:]

def opposite(c):
    return [next(j for j in range(len(c)) if np.all(c[j] == -c[i])) for i in range(len(c))]


def node_moments(c, load):
    """Lines that load f_q = ``load(q)`` and form ρ, j (axes the lattice moves along), the count
    of bad densities and 1/ρ."""
    Q = len(c)
    L = [f"f{q} = {load(q)}" for q in range(Q)]
    L.append("rho = " + " + ".join(f"f{q}" for q in range(Q)))
    for k, nm in enumerate("xyz"):
        pos = [f"f{q}" for q in range(Q) if c[q, k] == 1]
        neg = [f"f{q}" for q in range(Q) if c[q, k] == -1]
        if pos:
            L.append(f"j{nm} = ({' + '.join(pos)}) - ({' + '.join(neg)})")
    L.append("nbad += not (rho > 0.0 and rho < 1e30)")
    L.append("inv = 1.0 / rho")
    return L


def body(c, forced, load, store, ind, trt=False):
    Q = len(c)
    L = node_moments(c, load)
    comps = [nm for k, nm in enumerate("xyz") if np.any(c[:, k] != 0)]
    for nm in comps:
        L.append(f"u{nm} = (j{nm} + hF{nm}) * inv")
    L.append("usq = 1.5 * (" + " + ".join(f"u{nm} * u{nm}" for nm in comps) + ")")
    for nm in comps:
        L.append(f"v{nm} = 3.0 * u{nm}")
    if forced:
        L.append("uF = " + " + ".join(f"u{nm} * F{nm}" for nm in comps))
        L.append("m = 3.0 * uF")
    L.append("rho_" + (" = rho" if trt else " = omega * rho"))
    L.append("base = 1.0 - usq")
    # opposite pairs (q, q̄) share w, |c·u| and the even part of f^eq: one cu, e and h per pair
    opp = opposite(c)
    for q in range(Q):
        p = opp[q]
        if p < q:
            continue
        if p == q:                         # the rest population
            L.append(f"{store(q)} = {rest_value(q, f'f{q}', 'rho_', 'base', 'm', forced, trt)}")
            continue
        cu = lin([c[q, k] for k in range(3) if "xyz"[k] in comps], [f"v{nm}" for nm in comps])
        L += [f"cu = {cu}", f"e = w{q} * rho_", "h = base + 0.5 * cu * cu"]
        vq, vp = pair_values(q, f"f{q}", f"f{p}", "m", forced, trt)
        L += [f"{store(q)} = {vq}", f"{store(p)} = {vp}"]
    return [ind + s for s in L]


def rest_value(q, fq, rho_, base, m, forced, trt):
    """f*_0 of the rest population. ``rho_`` holds ω ρ (BGK) or ρ (TRT)."""
    if trt:
        val = f"{fq} - omega * ({fq} - w{q} * {rho_} * {base})"
        return val + (f" - gpw{q} * {m}" if forced else "")
    return f"keep * {fq} + w{q} * {rho_} * {base}" + (f" - gw{q} * {m}" if forced else "")


def pair_values(q, fq, fp, m, forced, trt):
    """(f*_q, f*_q̄) of an opposite pair from f_q, f_q̄ and ``cu`` = 3 c_q·u, ``e`` = w_q ω ρ
    (BGK) or w_q ρ (TRT), ``h`` = 1 − 3u²/2 + cu²/2, ``m`` = 3 u·F. TRT (Ginzburg 2005): the even
    part f⁺ = (f_q + f_q̄)/2 relaxes at ω to e h, the odd part f⁻ = (f_q − f_q̄)/2 at ω⁻ to e cu;
    Guo's term splits the same way, w(cu c_q·F·3 − m) even and 3 w c_q·F odd, with the weights
    1 − ω/2 and 1 − ω⁻/2 (``gpw``, ``gmw``); ``cF`` = 3 c_q·F."""
    if not trt:
        vq, vp = f"keep * {fq} + e * (h + cu)", f"keep * {fp} + e * (h - cu)"
        if forced:
            vq += f" + gw{q} * (cF{q} - {m} + cF{q} * cu)"
            vp += f" + gw{q} * (-cF{q} - {m} + cF{q} * cu)"
        return vq, vp
    even = f"omega * (0.5 * ({fq} + {fp}) - e * h)"
    odd = f"omega_m * (0.5 * ({fq} - {fp}) - e * cu)"
    vq, vp = f"{fq} - {even} - {odd}", f"{fp} - {even} + {odd}"
    if forced:
        se = f"gpw{q} * (cu * cF{q} - {m})"
        vq += f" + {se} + gmw{q} * cF{q}"
        vp += f" + {se} - gmw{q} * cF{q}"
    return vq, vp

def kernel(name):
    c = internal_c(name)
    Q = len(c)
    fn = "_bgk_" + name.lower()
    out = [f"def {fn}(x0, x1, src, dst, w, omega, F):",
           f'    """Periodic all-fluid BGK step on {name} (internal velocities as in ``domain``)."""',
           "    Q, nx, ny, nz = src.shape",
           "    bad = 0",
           "    Fx = F[0]", "    Fy = F[1]", "    Fz = F[2]",
           "    hFx = 0.5 * Fx", "    hFy = 0.5 * Fy", "    hFz = 0.5 * Fz",
           "    forced = Fx != 0.0 or Fy != 0.0 or Fz != 0.0",
           "    keep = 1.0 - omega",
           "    gain = 1.0 - 0.5 * omega"]
    for q in range(Q):
        out.append(f"    w{q} = w[{q}]")
        out.append(f"    gw{q} = gain * w[{q}]")
        cF = lin(c[q], ["Fx", "Fy", "Fz"])
        out.append(f"    cF{q} = 3.0 * ({cF})" if cF != "0.0" else f"    cF{q} = 0.0")
    out += ["    n = nz - 2",
            "    for x in range(x0, x1):",
            "        xm = x - 1 if x > 0 else nx - 1",
            "        xp = x + 1 if x < nx - 1 else 0",
            "        nb = 0",
            "        for y in range(ny):",
            "            ym = y - 1 if y > 0 else ny - 1",
            "            yp = y + 1 if y < ny - 1 else 0"]
    xs = {0: "x", 1: "xm", -1: "xp"}
    ys = {0: "y", 1: "ym", -1: "yp"}
    ind = "            "
    for q in range(Q):
        out.append(f"{ind}r{q} = src[{q}, {xs[int(c[q,0])]}, {ys[int(c[q,1])]}]")
        out.append(f"{ind}t{q} = dst[{q}, x, y]")
    # inner slices: z = i + 1, source index z - cz = i + 1 - cz
    for q in range(Q):
        s = 1 - int(c[q, 2])
        out.append(f"{ind}s{q} = r{q}[{s}:{s} + n]")
        out.append(f"{ind}o{q} = t{q}[1:1 + n]")
    out.append(f"{ind}nbad = 0")
    for forced in (True, False):
        out.append(f"{ind}{'if' if forced else 'else'}{' forced' if forced else ''}:")
        out.append(f"{ind}    for i in range(n):")
        out += body(c, forced, lambda q: f"s{q}[i]", lambda q: f"o{q}[i]", ind + "        ")
        out.append(f"{ind}    for z in (0, nz - 1):")
        out.append(f"{ind}        zm = z - 1 if z > 0 else nz - 1")
        out.append(f"{ind}        zp = z + 1 if z < nz - 1 else 0")
        zs = {0: "z", 1: "zm", -1: "zp"}
        out += body(c, forced, lambda q: f"r{q}[{zs[int(c[q,2])]}]", lambda q: f"t{q}[z]", ind + "        ")
    out.append(f"{ind}nb += nbad")
    out.append("        bad += nb")
    out.append("    return bad")
    return out

def moments(c, forced, load, ind, st):
    L = node_moments(c, load)
    for nm in "xyz":
        L.append(f"u{nm} = (j{nm} + hF{nm}) * inv")
    L.append("usq = 1.5 * (ux * ux + uy * uy + uz * uz)")
    L.append(f"SR[{st}] = omega * rho")
    L.append(f"SB[{st}] = 1.0 - usq")
    for nm in "xyz":
        L.append(f"S{nm}[{st}] = 3.0 * u{nm}")
    L.append(f"SM[{st}] = 3.0 * (ux * Fx + uy * Fy + uz * Fz)")
    return [ind + s for s in L]

def kernel_split(name):
    c = internal_c(name)
    Q = len(c)
    fn = "_bgk_" + name.lower()
    out = [f"def {fn}(x0, x1, src, dst, w, omega, F):",
           f'    """Periodic all-fluid BGK step on {name}: moments in one unrolled loop, collision per q."""',
           "    Q, nx, ny, nz = src.shape",
           "    bad = 0",
           "    Fx = F[0]", "    Fy = F[1]", "    Fz = F[2]",
           "    hFx = 0.5 * Fx", "    hFy = 0.5 * Fy", "    hFz = 0.5 * Fz",
           "    forced = Fx != 0.0 or Fy != 0.0 or Fz != 0.0",
           "    keep = 1.0 - omega",
           "    gain = 1.0 - 0.5 * omega",
           "    n = nz - 2",
           "    for x in range(x0, x1):",
           "        SR = np.empty(nz)", "        SB = np.empty(nz)", "        Sx = np.empty(nz)",
           "        Sy = np.empty(nz)", "        Sz = np.empty(nz)", "        SM = np.empty(nz)",
           "        xm = x - 1 if x > 0 else nx - 1",
           "        xp = x + 1 if x < nx - 1 else 0",
           "        nb = 0",
           "        for y in range(ny):",
           "            ym = y - 1 if y > 0 else ny - 1",
           "            yp = y + 1 if y < ny - 1 else 0"]
    xs = {0: "x", 1: "xm", -1: "xp"}
    ys = {0: "y", 1: "ym", -1: "yp"}
    ind = "            "
    for q in range(Q):
        out.append(f"{ind}r{q} = src[{q}, {xs[int(c[q,0])]}, {ys[int(c[q,1])]}]")
        s = 1 - int(c[q, 2])
        out.append(f"{ind}s{q} = r{q}[{s}:{s} + n]")
    out.append(f"{ind}nbad = 0")
    out.append(f"{ind}for i in range(n):")
    out += moments(c, True, lambda q: f"s{q}[i]", ind + "    ", "i + 1")
    out.append(f"{ind}for z in (0, nz - 1):")
    out.append(f"{ind}    zm = z - 1 if z > 0 else nz - 1")
    out.append(f"{ind}    zp = z + 1 if z < nz - 1 else 0")
    zs = {0: "z", 1: "zm", -1: "zp"}
    out += moments(c, True, lambda q: f"r{q}[{zs[int(c[q,2])]}]", ind + "    ", "z")
    out.append(f"{ind}nb += nbad")
    for q in range(Q):
        cu = lin(c[q], ["Sx[z]", "Sy[z]", "Sz[z]"])
        cF = lin(c[q], ["Fx", "Fy", "Fz"])
        out.append(f"{ind}wq = w[{q}]")
        out.append(f"{ind}t = dst[{q}, x, y]")
        out.append(f"{ind}gq = gain * wq")
        out.append(f"{ind}cFq = 3.0 * ({cF})" if cF != "0.0" else f"{ind}cFq = 0.0")
        if q == 0:
            out.append(f"{ind}for z in range(nz):")
            out.append(f"{ind}    t[z] = keep * r0[z] + wq * SR[z] * SB[z] + gq * (cFq - SM[z])")
            continue
        dz = int(c[q, 2])
        # source value at z: r[z - dz]
        out.append(f"{ind}s = s{q}")
        out.append(f"{ind}o = t[1:1 + n]")
        out.append(f"{ind}R = SR[1:1 + n]"); out.append(f"{ind}B = SB[1:1 + n]")
        out.append(f"{ind}X = Sx[1:1 + n]"); out.append(f"{ind}Y = Sy[1:1 + n]"); out.append(f"{ind}Z = Sz[1:1 + n]")
        out.append(f"{ind}MM = SM[1:1 + n]")
        cui = lin(c[q], ["X[i]", "Y[i]", "Z[i]"])
        out.append(f"{ind}if forced:")
        out.append(f"{ind}    for i in range(n):")
        out.append(f"{ind}        cu = {cui}")
        out.append(f"{ind}        o[i] = keep * s[i] + wq * R[i] * (B[i] + cu + 0.5 * cu * cu) + gq * (cFq - MM[i] + cFq * cu)")
        out.append(f"{ind}else:")
        out.append(f"{ind}    for i in range(n):")
        out.append(f"{ind}        cu = {cui}")
        out.append(f"{ind}        o[i] = keep * s[i] + wq * R[i] * (B[i] + cu + 0.5 * cu * cu)")
        out.append(f"{ind}for z in (0, nz - 1):")
        out.append(f"{ind}    zs = z - {dz}")
        out.append(f"{ind}    if zs < 0:"); out.append(f"{ind}        zs += nz")
        out.append(f"{ind}    elif zs >= nz:"); out.append(f"{ind}        zs -= nz")
        out.append(f"{ind}    cu = {cu}")
        out.append(f"{ind}    t[z] = keep * r{q}[zs] + wq * SR[z] * (SB[z] + cu + 0.5 * cu * cu) + gq * (cFq - SM[z] + cFq * cu)")
    out.append("        bad += nb")
    out.append("    return bad")
    return out


# ---------------------------------------------------------------------------------------------
# AA pattern (one population array, in place). Storage convention of the integrator ("S0"):
# f[q, x] = f*_q(x), the post-collision population at x. Two step kinds alternate:
#   nonlocal (S0 -> S1): gather f_q(x) = f[q, x - c_q], collide, write f*_q(x) to f[opp q, x + c_q]
#                         (exactly the locations the node read), leaving f[p, y] = f*_{opp p}(y + c_p);
#   local    (S1 -> S0): f_q(x) = f[opp q, x], collide, write f*_q(x) to f[q, x].
# Every node reads and writes one disjoint set of locations, so rows (and threads) are
# independent and no second array is needed.

def aa_head(fn, doc, trt=False, rates=None):
    """The kernel's signature and scalar set-up. ``rates``: the name of an MRT rate-vector
    argument, which replaces ω (and ω⁻)."""
    if rates is not None:
        return [f"def {fn}(x0, x1, f, nx, ny, nz, w, {rates}, F):",
                f'    """{doc} ``f`` is (Q, P) with slot q holding the (nx, ny, nz) grid C-ordered in its first nx ny nz entries (P may exceed that: padding between slots); ``{rates}``: the MRT rates s_k (0 for ρ and j)."""',
                "    Q = f.shape[0]",
                "    bad = 0",
                "    Fx = F[0]", "    Fy = F[1]", "    Fz = F[2]",
                "    hFx = 0.5 * Fx", "    hFy = 0.5 * Fy", "    hFz = 0.5 * Fz",
                "    forced = Fx != 0.0 or Fy != 0.0 or Fz != 0.0",
                "    n = nz - 2"]
    return [f"def {fn}(x0, x1, f, nx, ny, nz, w, omega, {'omega_m, ' if trt else ''}F):",
            f'    """{doc} ``f`` is (Q, P) with slot q holding the (nx, ny, nz) grid C-ordered in its first nx ny nz entries (P may exceed that: padding between slots)."""',
            "    Q = f.shape[0]",
            "    bad = 0",
            "    Fx = F[0]", "    Fy = F[1]", "    Fz = F[2]",
            "    hFx = 0.5 * Fx", "    hFy = 0.5 * Fy", "    hFz = 0.5 * Fz",
            "    forced = Fx != 0.0 or Fy != 0.0 or Fz != 0.0",
            "    keep = 1.0 - omega",
            "    gain = 1.0 - 0.5 * omega",
            "    gm = 1.0 - 0.5 * omega_m" if trt else "    gm = 0.0",
            "    n = nz - 2"]


def aa_constants(c, trt):
    """Per-velocity constants: w_q, (1 − ω/2) w_q, 3 c_q·F and, for TRT, (1 − ω⁻/2) w_q."""
    out = []
    for q in range(len(c)):
        out.append(f"    w{q} = w[{q}]")
        out.append(f"    gw{q} = gain * w[{q}]")
        if trt:
            out.append(f"    gpw{q} = gw{q}")
            out.append(f"    gmw{q} = gm * w[{q}]")
        cF = lin(c[q], ["Fx", "Fy", "Fz"])
        out.append(f"    cF{q} = 3.0 * ({cF})" if cF != "0.0" else f"    cF{q} = 0.0")
    return out


def num(x):
    """A float literal of the rational ``x``."""
    return repr(float(x))


def ilin(coefs, vars_):
    """Σ coef·var as source, skipping zero coefficients ("0.0" when all are zero)."""
    parts = []
    for cc, v in zip(coefs, vars_):
        if cc == 0:
            continue
        mag = abs(cc)
        t = v if mag == 1 else f"{num(mag)} * {v}"
        parts.append(("+ " if cc > 0 else "- ") + t)
    if not parts:
        return "0.0"
    s = " ".join(parts)
    return s[2:] if s.startswith("+ ") else "-" + s[2:]


class MRTPlan:
    """What the generated MRT kernels need of a basis M (rows = moments, orthogonal, integer
    entries, each row even or odd under c → −c): for every moment k its norm n_k = |M_k|², its
    parity, and the polynomials in u of its equilibrium value and of its Guo forcing term,

        m^eq_k / ρ = a_k + 3 b_k·u + u·(9/2 C_k − 3/2 a_k I)·u,
        m^F_k      = 3 b_k·F + u·(9 C_k − 3 a_k I)·F,

    with a_k = Σ_q M_kq w_q, b_k = Σ_q M_kq w_q c_q, C_k = Σ_q M_kq w_q c_q c_qᵀ (exact
    rationals; f^eq and Guo's F_q are quadratic in c, so these are M f^eq and M F exactly).
    ρ and j are conserved (rate 0): their only contribution is j's forcing, m^F_j = F."""

    def __init__(self, name):
        c = internal_c(name)
        lat = lattice(name)
        M, names = mrt_basis(name)
        Mi = np.rint(M).astype(int)
        assert np.array_equal(Mi, M), "MRT basis with non-integer entries"
        G = Mi @ Mi.T
        assert np.array_equal(G, np.diag(np.diag(G))), "MRT basis rows are not orthogonal"
        Q = len(c)
        opp = opposite(c)
        w = [Fraction(x).limit_denominator(1000) for x in lat.w]
        self.c, self.M, self.names, self.opp, self.Q = c, Mi, names, opp, Q
        self.norm = [int(G[k, k]) for k in range(Q)]
        self.comps = [k for k in range(3) if np.any(c[:, k] != 0)]
        self.pairs = [(q, opp[q]) for q in range(1, Q) if q < opp[q]]
        self.parity = []
        for k in range(Q):
            if all(Mi[k, opp[q]] == Mi[k, q] for q in range(Q)):
                self.parity.append(1)
            else:
                assert all(Mi[k, opp[q]] == -Mi[k, q] for q in range(Q)), f"moment {names[k]} has no parity"
                self.parity.append(-1)
        self.conserved = [k for k in range(Q) if names[k] in ("rho", "jx", "jy", "jz")]
        self.free = [k for k in range(Q) if k not in self.conserved]       # scratch rows, in order
        self.a, self.b, self.C = [], [], []
        for k in range(Q):
            self.a.append(sum(Mi[k, q] * w[q] for q in range(Q)))
            self.b.append([sum(Mi[k, q] * w[q] * int(c[q, i]) for q in range(Q)) for i in range(3)])
            self.C.append([[sum(Mi[k, q] * w[q] * int(c[q, i]) * int(c[q, j]) for q in range(Q))
                            for j in range(3)] for i in range(3)])
        # the conserved moments: m^eq_ρ = ρ, m^eq_j = ρ u_j (= j + F/2), m^F_ρ = 0, m^F_j = F
        for k in self.conserved:
            assert not any(self.quad(k).values()) and not any(self.force_u(k, i) for i in range(3))

    def quad(self, k):
        """{(i, j): coefficient of u_i u_j, i ≤ j} in m^eq_k / ρ."""
        a, C = self.a[k], self.C[k]
        out = {}
        for i in self.comps:
            for j in self.comps:
                if j < i:
                    continue
                coef = Fraction(9, 2) * C[i][j] * (1 if i == j else 2) - (Fraction(3, 2) * a if i == j else 0)
                out[(i, j)] = coef
        return out

    def force_u(self, k, i):
        """[coefficient of F_j] in the factor of u_i in m^F_k, as a dict j → coef."""
        return {j: 9 * self.C[k][i][j] - (3 * self.a[k] if i == j else 0) for j in self.comps
                if 9 * self.C[k][i][j] - (3 * self.a[k] if i == j else 0) != 0}

    def constants(self):
        """Kernel-level lines: per free moment s_k/n_k (``sn``), (1 − s_k/2)/n_k (``gn``) and the
        forcing coefficients; per opposite pair the conserved moments' forcing share (``oc``)."""
        ax = "xyz"
        out = []
        for k in self.free:
            out.append(f"    sn{k} = rates[{k}] * {num(Fraction(1, self.norm[k]))}")
            out.append(f"    gn{k} = (1.0 - 0.5 * rates[{k}]) * {num(Fraction(1, self.norm[k]))}")
            fc = ilin([3 * self.b[k][j] for j in self.comps], [f"F{ax[j]}" for j in self.comps])
            if fc != "0.0":
                out.append(f"    gfc{k} = gn{k} * ({fc})")
            for i in self.comps:
                fu = self.force_u(k, i)
                if fu:
                    out.append(f"    gfu{k}{ax[i]} = gn{k} * ({ilin(list(fu.values()), [f'F{ax[j]}' for j in fu])})")
        # r_j = −m^F_j / n_j for the conserved j (rate 0, so 1 − s/2 = 1)
        for k in self.conserved:
            fc = ilin([3 * self.b[k][j] for j in self.comps], [f"F{ax[j]}" for j in self.comps])
            if fc != "0.0":
                out.append(f"    rc{k} = -({fc}) * {num(Fraction(1, self.norm[k]))}")
        for q, p in self.pairs:
            terms = [(self.M[k, q], f"rc{k}") for k in self.conserved if self.M[k, q] != 0 and any(self.b[k])]
            assert all(self.parity[k] == -1 or self.names[k] == "rho" for k in self.conserved)
            out.append(f"    oc{q} = {ilin([t[0] for t in terms], [t[1] for t in terms])}")
        return out

    def moment_lines(self, load, forced, store):
        """Pass 1 of a node: the Q populations, ρ, u and, per free moment k, the scaled
        relaxation r_k = [s_k (m_k − m^eq_k) − (1 − s_k/2) m^F_k] / n_k into ``store[row]``."""
        ax = "xyz"
        Q = self.Q
        L = [f"f{q} = {load(q)}" for q in range(Q)]
        for q, p in self.pairs:
            L += [f"e{q} = f{q} + f{p}", f"o{q} = f{q} - f{p}"]

        def raw(k):
            if self.parity[k] == 1:
                return ilin([self.M[k, 0]] + [self.M[k, q] for q, _ in self.pairs],
                            ["f0"] + [f"e{q}" for q, _ in self.pairs])
            return ilin([self.M[k, q] for q, _ in self.pairs], [f"o{q}" for q, _ in self.pairs])

        L.append(f"rho = {raw(0)}")
        L.append("nbad += not (rho > 0.0 and rho < 1e30)")
        L.append("inv = 1.0 / rho")
        for i in self.comps:
            jk = [k for k in self.conserved if self.b[k][i] != 0]
            assert len(jk) == 1
            L.append(f"j{ax[i]} = {raw(jk[0])}")
            L.append(f"u{ax[i]} = (j{ax[i]} + hF{ax[i]}) * inv" if forced else f"u{ax[i]} = j{ax[i]} * inv")
        for i in self.comps:
            for j in self.comps:
                if j >= i:
                    L.append(f"u{ax[i]}{ax[j]} = u{ax[i]} * u{ax[j]}")
        for row, k in enumerate(self.free):
            poly = [(3 * self.b[k][i], f"u{ax[i]}") for i in self.comps]
            poly += [(cf, f"u{ax[i]}{ax[j]}") for (i, j), cf in self.quad(k).items()]
            meq = ilin([t[0] for t in poly], [t[1] for t in poly])
            if self.a[k] != 0:
                meq = num(self.a[k]) + ("" if meq == "0.0" else f" + {meq}" if meq[0] != "-" else f" - {meq[1:]}")
            val = f"sn{k} * ({raw(k)}" + ("" if meq == "0.0" else f" - rho * ({meq})") + ")"
            if forced:
                fu = [f"gfu{k}{ax[i]} * u{ax[i]}" for i in self.comps if self.force_u(k, i)]
                fc = [f"gfc{k}"] if any(self.b[k][j] for j in self.comps) else []
                if fc + fu:
                    val += " - (" + " + ".join(fc + fu) + ")"
            L.append(f"{store[row]} = {val}")
        return L

    def node_lines(self, load, store, forced):
        """One node in one go (the fused D2Q9 loop): pass 1 into scalars ``g_k``, then f*_q to
        ``store(q)`` from the loaded f_q."""
        mom = [f"g{k}" for k in self.free]
        L = self.moment_lines(load, forced, mom)
        L += [f"{store(0)} = f0 - ({self.relaxed(0, mom)})"]
        for q, p in self.pairs:
            E, O = self.even_odd(q, forced, mom)
            L += [f"E = {E}", f"O = {O}", f"{store(q)} = f{q} - (E + O)", f"{store(p)} = f{p} - (E - O)"]
        return L

    def relaxed(self, q, mom):
        """Σ_k M_kq r_k over the free moments, r_k in ``mom`` (one entry per free moment)."""
        return ilin([self.M[k, q] for k in self.free], mom)

    def even_odd(self, q, forced, mom):
        """The even (E) and odd (O) parts of Σ_k M_kq r_k; O carries the conserved j's forcing."""
        row = dict(zip(self.free, mom))
        ev = [k for k in self.free if self.parity[k] == 1 and self.M[k, q] != 0]
        od = [k for k in self.free if self.parity[k] == -1 and self.M[k, q] != 0]
        E = ilin([self.M[k, q] for k in ev], [row[k] for k in ev])
        O = ilin([self.M[k, q] for k in od], [row[k] for k in od])
        return E, (f"{O} + oc{q}" if forced else O)

    def collide_lines(self, loc, forced, mom):
        """Pass 2: f*_q = f_q − Σ_k M_kq r_k; for a pair (q, q̄) the even moments give E, the
        odd ones O, f*_q = f_q − (E + O) and f*_q̄ = f_q̄ − (E − O). ("for", q, q̄) marks where
        a pair's loop starts."""
        L = [f"{loc(0)} = {loc(0)} - ({self.relaxed(0, mom)})"]
        for q, p in self.pairs:
            E, O = self.even_odd(q, forced, mom)
            L += [("for", q, p), f"pa = {loc(q)}", f"pb = {loc(p)}", f"E = {E}", f"O = {O}",
                  f"{loc(p)} = pa - (E + O)", f"{loc(q)} = pb - (E - O)"]
        return L


def aa_fused(name, local, trt=False, mrt=False):
    """Fully unrolled node loop (D2Q9): Q loads, Q stores per node. ``mrt``: MRT
    (:meth:`MRTPlan.node_lines`)."""
    c = internal_c(name)
    Q = len(c)
    opp = opposite(c)
    kind = "local" if local else "nonlocal"
    model = "MRT" if mrt else "TRT" if trt else "BGK"
    suffix = "_mrt" if mrt else "_trt" if trt else ""
    doc = f"AA {kind} step, periodic all-fluid {model} on {name}, in place on ``f``."
    if mrt:
        plan = MRTPlan(name)
        out = aa_head(f"_aa_{kind}_{name.lower()}{suffix}", doc, rates="rates") + plan.constants()

        def node(c, forced, load, store, ind, trt):
            return [ind + t for t in plan.node_lines(load, store, forced)]
    else:
        out = aa_head(f"_aa_{kind}_{name.lower()}{suffix}", doc, trt) + aa_constants(c, trt)
        node = body
    out += ["    for x in range(x0, x1):",
            "        xm = x - 1 if x > 0 else nx - 1",
            "        xp = x + 1 if x < nx - 1 else 0",
            "        nb = 0",
            "        for y in range(ny):",
            "            ym = y - 1 if y > 0 else ny - 1",
            "            yp = y + 1 if y < ny - 1 else 0"]
    ind = "            "
    xs = {0: "x", 1: "xm", -1: "xp"}
    ys = {0: "y", 1: "ym", -1: "yp"}
    if local:
        for q in range(Q):
            out.append(f"{ind}t{q} = f[{q}, (x * ny + y) * nz:(x * ny + y + 1) * nz]")
        out.append(f"{ind}nbad = 0")
        for forced in (True, False):
            out.append(f"{ind}{'if forced' if forced else 'else'}:")
            out.append(f"{ind}    for z in range(nz):")
            out += node(c, forced, lambda q: f"t{opp[q]}[z]", lambda q: f"t{q}[z]", ind + "        ", trt)
    else:
        for q in range(Q):
            out.append(f"{ind}r{q} = f[{q}, ({xs[int(c[q, 0])]} * ny + {ys[int(c[q, 1])]}) * nz:({xs[int(c[q, 0])]} * ny + {ys[int(c[q, 1])]} + 1) * nz]")
        for q in range(Q):
            s = 1 - int(c[q, 2])
            out.append(f"{ind}s{q} = r{q}[{s}:{s} + n]")
        out.append(f"{ind}nbad = 0")
        zs = {0: "z", 1: "zm", -1: "zp"}
        for forced in (True, False):
            out.append(f"{ind}{'if forced' if forced else 'else'}:")
            out.append(f"{ind}    for i in range(n):")
            out += node(c, forced, lambda q: f"s{q}[i]", lambda q: f"s{opp[q]}[i]", ind + "        ", trt)
            out.append(f"{ind}    for z in (0, nz - 1):")
            out.append(f"{ind}        zm = z - 1 if z > 0 else nz - 1")
            out.append(f"{ind}        zp = z + 1 if z < nz - 1 else 0")
            out += node(c, forced, lambda q: f"r{q}[{zs[int(c[q, 2])]}]",
                        lambda q: f"r{opp[q]}[{zs[int(c[opp[q], 2])]}]", ind + "        ", trt)
    out.append(f"{ind}nb += nbad")
    out.append("        bad += nb")
    out.append("    return bad")
    return out


BLOCK = 64   # z-block of the two-pass AA kernel (its moment rows, 6 x BLOCK float64, stay in L1)


def aa_two_pass(name, local, trt=False, mrt=False):
    """Two-pass AA step (D3Q19): per (x, y) row and z-block of ``BLOCK`` nodes, pass 1 reads the
    Q incoming populations of each node from ``f`` and writes only the moments ω ρ, 1 − 3u²/2,
    3u and 3u·F to a 1-D scratch ``S`` (rows at constant offsets k·BLOCK); pass 2 runs one loop
    per opposite pair (q, q̄) that reads f_q and f_q̄ again (from L1: the block's Q streams are
    ~10 KB) and writes f*_q and f*_q̄ to each other's locations. Every loop vectorises: pass 1
    stores to one object at constant offsets (LLVM groups its alias checks against the Q load
    streams), each pair loop touches two streams of ``f`` plus ``S``. The previous kernel
    copied the Q populations into an L1 buffer first and collided from there; this one does
    Q fewer stores and Q fewer loads per node (stores are what a Zen core runs out of first).
    ``f`` is indexed as ``f[q, u + i]`` with unsigned offsets ``u`` set once per z-block, never
    sliced inside the loops (a numba slice costs an atomic reference-count pair; a signed index
    carries numba's wrap-around test, which stops vectorisation; unsigned arithmetic keeps
    ``u + i`` exact where ``u`` wrapped below 0). In the nonlocal step the first and last node
    of a row (z = 0 and z = nz − 1, whose z-shifted reads and writes cross the periodic boundary)
    run as scalar code after the vector loops.

    ``mrt``: the same two passes for MRT (:class:`MRTPlan`): pass 1 writes the scaled relaxation
    r_k of each non-conserved moment (Q − 1 − D rows), pass 2 rebuilds each pair from the rows
    its velocities have in M (even and odd moments apart)."""
    c = internal_c(name)
    Q = len(c)
    opp = opposite(c)
    kind = "local" if local else "nonlocal"
    model = "MRT" if mrt else "TRT" if trt else "BGK"
    suffix = "_mrt" if mrt else "_trt" if trt else ""
    doc = (f"AA {kind} step, periodic all-fluid {model} on {name}, in place on ``f`` "
           "(two passes per z-block: moments, then one collision loop per opposite pair).")
    if mrt:
        plan = MRTPlan(name)
        nrows = len(plan.free)
        out = aa_head(f"_aa_{kind}_{name.lower()}{suffix}", doc, rates="rates")
        out += plan.constants()
    else:
        nrows = 6
        out = aa_head(f"_aa_{kind}_{name.lower()}{suffix}", doc, trt)
        out += aa_constants(c, trt)
    out += ["    for x in range(x0, x1):",
            f"        S = np.empty({nrows * BLOCK})",
            "        xm = x - 1 if x > 0 else nx - 1",
            "        xp = x + 1 if x < nx - 1 else 0",
            "        nb = 0",
            "        for y in range(ny):",
            "            ym = y - 1 if y > 0 else ny - 1",
            "            yp = y + 1 if y < ny - 1 else 0",
            "            nbad = 0"]
    ind = "            "
    xs = {0: "x", 1: "xm", -1: "xp"}
    ys = {0: "y", 1: "ym", -1: "yp"}
    nm_ = {0: "0", 1: "m", -1: "p"}
    # src[q] = (slot, row offset, z shift): where f_q is read; f*_q is written where f_q̄ was read
    if local:
        out.append(f"{ind}a = (x * ny + y) * nz")
        src = {q: (opp[q], "a", 0) for q in range(Q)}
    else:
        combos = sorted({(int(c[q, 0]), int(c[q, 1])) for q in range(Q)})
        for cx, cy in combos:
            out.append(f"{ind}a{nm_[cx]}{nm_[cy]} = ({xs[cx]} * ny + {ys[cy]}) * nz")
        row = {q: f"a{nm_[int(c[q, 0])]}{nm_[int(c[q, 1])]}" for q in range(Q)}
        src = {q: (q, row[q], -int(c[q, 2])) for q in range(Q)}
    ubase = {}

    def at(spec, i="i"):
        slot, base, off = spec
        key = (base, off)
        if key not in ubase:
            ubase[key] = f"u{base}{'p' if off > 0 else 'm' if off < 0 else ''}"
        return f"f[{slot}, {ubase[key]} + {i}]"

    def end(spec, first):
        """The location of ``spec`` for the first (z = 0) or last (z = nz − 1) node of a row:
        a z-shifted access that crosses the periodic boundary wraps to the other end."""
        slot, base, off = spec
        if first and off < 0:
            return f"f[{slot}, {base} + nz - 1]"
        if not first and off > 0:
            return f"f[{slot}, {base}]"
        return at(spec)

    for q in range(Q):
        at(src[q])
    pairs = [(q, opp[q]) for q in range(1, Q) if q < opp[q]]

    def moments(ind3, load, forced, store):
        if mrt:
            return [ind3 + t for t in plan.moment_lines(load, forced, store)]
        L = node_moments(c, load)
        for nm in "xyz":
            L.append(f"u{nm} = (j{nm} + hF{nm}) * inv" if forced else f"u{nm} = j{nm} * inv")
        vals = ["rho" if trt else "omega * rho", "1.0 - 1.5 * (ux * ux + uy * uy + uz * uz)",
                "3.0 * ux", "3.0 * uy", "3.0 * uz"]
        if forced:
            vals.append("3.0 * (ux * Fx + uy * Fy + uz * Fz)")
        L += [f"{store[k]} = {v}" for k, v in enumerate(vals)]
        return [ind3 + t for t in L]

    def collide(ind3, loc, forced, mom):
        """Rest population and the pairs: f*_q to the location f_q̄ came from, and back. ``r``
        holds ω ρ (BGK) or ρ (TRT)."""
        if mrt:
            return plan.collide_lines(loc, forced, mom)
        r, bs, vx, vy, vz, mf = mom
        L = [f"{loc(0)} = {rest_value(0, loc(0), r, bs, mf, forced, trt)}"]
        for q, p in pairs:                 # ("for", q, p) marks where a pair's loop starts
            vq, vp = pair_values(q, "pa", "pb", mf, forced, trt)
            L.append(("for", q, p))
            L += [f"cu = {lin(c[q], [vx, vy, vz])}", f"e = w{q} * {r}", f"h = {bs} + 0.5 * cu * cu",
                  f"pa = {loc(q)}", f"pb = {loc(p)}", f"{loc(p)} = {vq}", f"{loc(q)} = {vp}"]
        return L

    out.append(f"{ind}for zb in range(0, nz, {BLOCK}):")
    ind2 = ind + "    "
    out.append(f"{ind2}mi = min({BLOCK}, nz - zb)")
    out.append(f"{ind2}m = np.uint64(mi)")
    if local:
        out.append(f"{ind2}lo = np.uint64(0)")
        out.append(f"{ind2}hi = m")
    else:
        out.append(f"{ind2}slo = zb == 0")
        out.append(f"{ind2}shi = zb + mi == nz")
        out.append(f"{ind2}lo = np.uint64(1 if slo else 0)")
        out.append(f"{ind2}hi = m - np.uint64(1 if shi else 0)")
    for (base, off), un in sorted(ubase.items(), key=lambda kv: kv[1]):
        o = f" {'+' if off >= 0 else '-'} {abs(off)}" if off else ""
        out.append(f"{ind2}{un} = np.uint64({base} + zb{o})")
    for forced in (True, False):
        out.append(f"{ind2}{'if forced' if forced else 'else'}:")
        ind3 = ind2 + "    "
        store = [f"S[{k * BLOCK} + i]" for k in range(nrows)]
        out.append(f"{ind3}for i in range(lo, hi):")
        out += moments(ind3 + "    ", lambda q: at(src[q]), forced, store)
        body = collide(ind3, lambda q: at(src[q]), forced, store)
        out.append(f"{ind3}for i in range(lo, hi):")
        out.append(f"{ind3}    {body[0]}")
        for item in body[1:]:
            if isinstance(item, tuple):
                out.append(f"{ind3}for i in range(lo, hi):")
            else:
                out.append(f"{ind3}    {item}")
        if local:
            continue
        scal = [f"r{k}" for k in range(nrows)] if mrt else ["rho_", "base", "vx", "vy", "vz", "mF"]
        for first in (True, False):
            out.append(f"{ind3}if {'slo' if first else 'shi'}:")
            ind4 = ind3 + "    "
            out.append(f"{ind4}i = {'np.uint64(0)' if first else 'm - np.uint64(1)'}")
            loc = (lambda q, first=first: end(src[q], first))
            out += moments(ind4, loc, forced, scal)
            out += [ind4 + t for t in collide(ind4, loc, forced, scal) if not isinstance(t, tuple)]
    out.append(f"{ind}nb += nbad")
    out.append("        bad += nb")
    out.append("    return bad")
    return out


hdr = '''"""Unrolled stream–collide kernels for fully periodic, all-fluid BGK and TRT (the benchmark cases).

GENERATED by ``python solvers/lattice_boltzmann/_gen_fastpath.py``; do not edit by hand. Same arithmetic as ``kernels.stream_collide`` with
``model = 0`` on a domain whose flags are all fluid and no face has padding, but with the
lattice velocities written out: one pass over the populations per node, every load and store
unit-stride along z, so LLVM vectorises the z-loop. z = 0 and z = nz − 1 (the periodic wrap)
are peeled. The kernel returns the number of nodes whose density is non-positive or
non-finite (``dst`` is then garbage, ``src`` intact), like ``stream_collide``.
Needs nz ≥ 3 (``periodic_bgk_kernel`` checks it). ``error_model="numpy"`` matters: with numba's
default ("python") the float division carries a ZeroDivisionError branch that stops LLVM from
vectorising the loop (a zero density is caught by the ρ > 0 count instead).

D3Q19 is split: one fully unrolled node loop with 19 loads and 19 stores is not vectorised by
LLVM ("too many memory checks needed") and ran at half the generic kernel's speed. So the moments
(ω ρ, 1 − 3u²/2, 3u, 3 u·F) go to per-x scratch rows in one unrolled loop, and the collision runs as
19 short loops (one population each), which do vectorise.

The ``_aa_*`` kernels are the in-place AA pattern (one population array; see ``aa.py`` for the
layouts): ``nonlocal`` from layout S0, ``local`` from S1, each taking the padded (Q, P) buffer
of ``aa.aa_storage`` and the grid size; the ``_trt`` ones collide with two relaxation times
(Ginzburg 2005, the even and odd parts of each opposite pair; same streaming, same layout). D2Q9 is one unrolled loop per row (it vectorises:
every load and store of a node touches the same Q locations); opposite pairs share c·u and the
even part of f^eq (3 % fewer seconds than one population at a time, measured interleaved). D3Q19 goes through z-blocks of
``BLOCK`` nodes in two passes: pass 1 reads the Q incoming populations of each node from ``f``
and writes only the moments (ω ρ, 1 − 3u²/2, 3u, 3u·F) to an L1-resident 1-D scratch; pass 2 is
one loop per opposite pair (q, q̄) that reads f_q and f_q̄ again (L1 hits) and writes f*_q and
f*_q̄ straight back to the two locations the pair came from. Every loop vectorises (checked with
LLVM's loop-vectorize remarks). The kernel before it copied the Q populations into an
(Q + 6, BLOCK) buffer first and collided from there: Q more stores and Q more loads per node,
and stores are what a Zen core runs short of. Measured interleaved, CPU-time MLUPS, one core of
the project's 2-core Zen-1 machine: 128³ 19.9 → 32.1, 16·16·128 20.5 → 36.0 (BLOCK 32/64/128
within noise of each other). Tried and slower before that (an older, faster machine): one
unrolled D3Q19 loop (not vectorised: "too many memory checks"), the A–B-style split with
2-D scratch rows (moments loop not vectorised), a fully unrolled loop on a gathered buffer
(vectorised but register-bound), two pairs per loop (no gain).
The D3Q19 AA loops index ``f[q, u + i]`` with unsigned row offsets ``u`` computed once per
z-block instead of slicing ``f``: each numba slice costs an atomic reference-count increment and
decrement (38 slices per z-block, about a quarter of the kernel's time), and a signed offset
carries numba's negative-index wrap-around, which stops LLVM from vectorising the loop. In the
nonlocal step the first and last node of each row (z = 0 and z = nz − 1, whose z-shifted reads
and writes cross the periodic boundary) run as scalar code after the vector loops.
Tried and not kept: software prefetch (llvm.prefetch 64–1024 elements ahead, L1 or L2: 5–20 %
slower) and BLOCK = 32, 96, 128 (no gain, within noise).

The ``_mrt`` kernels collide in moment space (Lallemand & Luo 2000 for D2Q9, d'Humières et al.
2002 for D3Q19; same AA streaming and layouts). The basis rows are integer and orthogonal, so
m = M f and f = Σ_k m_k M_k / |M_k|² are written out as integer-coefficient sums; the
equilibrium moments and Guo's forcing moments are polynomials in ρ, j and F with exact rational
coefficients, and the conserved moments (ρ, j) are not relaxed:
f*_q = f_q − Σ_k [s_k (m_k − m^eq_k) − (1 − s_k/2) m^F_k] M_kq / |M_k|², where for ρ and j only
the forcing term −m^F_j = −F survives. D2Q9 runs in one fused loop; D3Q19
keeps the two-pass z-blocks, its scratch holding the 15 non-conserved moments. Measured, one
core: D2Q9 1024² 10.9 → 56.3 MLUPS, D3Q19 128³ 2.5 → 18.0 MLUPS (the generic row kernel before),
in one population array instead of two.

Every kernel is written for the x-rows x0 ≤ x < x1 (``kernel_rows(x0, x1, ...)``, jitted once)
and returns their count of bad nodes. ``kernel_serial`` runs it on all rows in one call and
``kernel_parallel`` spreads the rows over numba's threads through the same compiled code
(:class:`toolkit.kernels.rows.RowKernel`), so the two give identical bits. Each used to have its
own ``parallel=True`` build with ``prange`` over x: those took 10–46 s each to compile (numba's
parfor passes on bodies this large), most of the test suite's time, and differed from the serial
build by an ulp.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from toolkit.kernels import FASTMATH
from toolkit.kernels.rows import RowKernel

from .kernels import src_rows

__all__ = ["periodic_bgk_kernel", "periodic_bgk_aa_kernels", "periodic_trt_aa_kernels", "periodic_mrt_aa_kernels",
           "ENABLED"]\n\n#: lattices whose unrolled kernel is used by the integrator\nENABLED = ("D2Q9", "D3Q19")

_FM = set(FASTMATH)


def _nx(f, nx, *args):
    """The row count of an AA kernel call: its ``nx``."""
    return nx

'''
JIT = "njit(cache=True, nogil=True, fastmath=_FM, boundscheck=False, error_model='numpy')"


def row_kernels(fn, public, count):
    """``public_rows`` jitted from ``fn`` (a kernel over rows x0 ≤ x < x1), and the serial and
    parallel :class:`~toolkit.kernels.rows.RowKernel` over it, ``count`` giving the rows."""
    return "\n".join([f"{public}_rows = {JIT}({fn})",
                      f"{public}_serial = RowKernel({public}_rows, {count})",
                      f"{public}_parallel = RowKernel({public}_rows, {count}, parallel=True)", "", ""])


src = [hdr]
for name in ("D2Q9", "D3Q19"):
    lines = kernel(name) if name == "D2Q9" else kernel_split(name)
    src.append("\n".join(lines))
    src.append("")
    src.append("")
    c = internal_c(name)
    src.append(f"_C_{name} = np.array({c.tolist()}, dtype=np.int64)")
    src.append(row_kernels("_bgk_" + name.lower(), name.lower(), "src_rows"))
AA_STYLE = {"D2Q9": aa_fused, "D3Q19": aa_two_pass}
for trt in (False, True):
    for name in ("D2Q9", "D3Q19"):
        for local in (False, True):
            kind = "local" if local else "nonlocal"
            tag = f"{kind}_{name.lower()}{'_trt' if trt else ''}"
            src.append("\n".join(AA_STYLE[name](name, local, trt)))
            src.append("")
            src.append("")
            src.append(row_kernels(f"_aa_{tag}", f"aa_{tag}", "_nx"))
for name in ("D2Q9", "D3Q19"):
    plan = MRTPlan(name)
    src.append(f"_M_{name} = np.array({plan.M.tolist()}, dtype=np.float64)")
    src.append(f"_CONSERVED_{name} = np.array({plan.conserved}, dtype=np.int64)")
    src.append("")
    src.append("")
    for local in (False, True):
        kind = "local" if local else "nonlocal"
        tag = f"{kind}_{name.lower()}_mrt"
        src.append("\n".join(AA_STYLE[name](name, local, mrt=True)))
        src.append("")
        src.append("")
        src.append(row_kernels(f"_aa_{tag}", f"aa_{tag}", "_nx"))
src.append('''def periodic_bgk_aa_kernels(lattice_name, c, shape, parallel):
    """The in-place AA-pattern BGK kernels ``(nonlocal, local)`` for this lattice, or None when
    they do not apply (other lattice, other velocity ordering, fewer than 3 nodes along z). Each
    is called as ``kernel(buf, nx, ny, nz, w, omega, F)`` on the (Q, P) buffer of
    ``aa.aa_storage`` and returns the number of nodes with a non-positive or non-finite density."""
    table = {"D2Q9": (_C_D2Q9, (aa_nonlocal_d2q9_serial, aa_local_d2q9_serial),
                      (aa_nonlocal_d2q9_parallel, aa_local_d2q9_parallel)),
             "D3Q19": (_C_D3Q19, (aa_nonlocal_d3q19_serial, aa_local_d3q19_serial),
                       (aa_nonlocal_d3q19_parallel, aa_local_d3q19_parallel))}
    return _pick(table, lattice_name, c, shape, parallel)


def periodic_trt_aa_kernels(lattice_name, c, shape, parallel):
    """The in-place AA-pattern TRT kernels ``(nonlocal, local)``, like
    :func:`periodic_bgk_aa_kernels` but called as ``kernel(buf, nx, ny, nz, w, omega, omega_m, F)``
    (ω⁺ = ``omega``, ω⁻ = ``omega_m``)."""
    table = {"D2Q9": (_C_D2Q9, (aa_nonlocal_d2q9_trt_serial, aa_local_d2q9_trt_serial),
                      (aa_nonlocal_d2q9_trt_parallel, aa_local_d2q9_trt_parallel)),
             "D3Q19": (_C_D3Q19, (aa_nonlocal_d3q19_trt_serial, aa_local_d3q19_trt_serial),
                       (aa_nonlocal_d3q19_trt_parallel, aa_local_d3q19_trt_parallel))}
    return _pick(table, lattice_name, c, shape, parallel)


def periodic_mrt_aa_kernels(lattice_name, c, shape, parallel, basis, rates):
    """The in-place AA-pattern MRT kernels ``(nonlocal, local)``, like
    :func:`periodic_bgk_aa_kernels` but called as ``kernel(buf, nx, ny, nz, w, rates, F)`` with
    the rate of every moment of ``basis``. None also when ``basis`` is not the one the kernels
    were generated for or a conserved moment (ρ, j) has a non-zero rate."""
    table = {"D2Q9": (_C_D2Q9, (aa_nonlocal_d2q9_mrt_serial, aa_local_d2q9_mrt_serial),
                      (aa_nonlocal_d2q9_mrt_parallel, aa_local_d2q9_mrt_parallel)),
             "D3Q19": (_C_D3Q19, (aa_nonlocal_d3q19_mrt_serial, aa_local_d3q19_mrt_serial),
                       (aa_nonlocal_d3q19_mrt_parallel, aa_local_d3q19_mrt_parallel))}
    if lattice_name not in table:
        return None
    M, conserved = {"D2Q9": (_M_D2Q9, _CONSERVED_D2Q9), "D3Q19": (_M_D3Q19, _CONSERVED_D3Q19)}[lattice_name]
    basis, rates = np.asarray(basis), np.asarray(rates)
    if basis.shape != M.shape or not np.array_equal(basis, M) or rates.shape != (len(M),) \
            or np.any(rates[conserved] != 0.0):
        return None
    return _pick(table, lattice_name, c, shape, parallel)


def _pick(table, lattice_name, c, shape, parallel):
    if lattice_name not in table or shape[2] < 3:
        return None
    ref, serial, par = table[lattice_name]
    if c.shape != ref.shape or not np.array_equal(c, ref):
        return None
    return par if parallel else serial


''')
src.append('''def periodic_bgk_kernel(lattice_name, c, shape, parallel, enabled=ENABLED):
    """The unrolled kernel for this lattice, or None when it does not apply (other lattice,
    other velocity ordering, or fewer than 3 nodes along the contiguous axis)."""
    table = {"D2Q9": (_C_D2Q9, d2q9_serial, d2q9_parallel), "D3Q19": (_C_D3Q19, d3q19_serial, d3q19_parallel)}
    if lattice_name not in table or lattice_name not in enabled or shape[2] < 3:
        return None
    ref, serial, par = table[lattice_name]
    if c.shape != ref.shape or not np.array_equal(c, ref):
        return None
    return par if parallel else serial
''')
open(os.path.join(ROOT, 'solvers', 'lattice_boltzmann', 'fastpath.py'), 'w').write("\n".join(src))
