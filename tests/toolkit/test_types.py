"""Problem/Solver/Solution base types, validation helpers, remake and return codes."""

import numpy as np
import pytest
import scipy.sparse as sp

import toolkit as tk
from toolkit import validate as v
from tests.toolkit import toy


def test_problem_is_frozen_validated_and_normalised():
    p = toy.Decay(x0=[1, 2], rate=2)
    assert p.x0.dtype == np.float64 and p.x0.flags.c_contiguous and p.x0.flags.writeable
    assert isinstance(p.rate, float)
    with pytest.raises(AttributeError):
        p.rate = 3.0
    with pytest.raises(tk.InvalidProblemError, match=r"dt = -1\.0 is not allowed: must be > 0"):
        toy.Decay(x0=[1.0], dt=-1.0)
    with pytest.raises(tk.InvalidProblemError, match="x0.*finite"):
        toy.Decay(x0=[np.nan])


def test_repr_is_compact():
    p = toy.Decay(x0=np.ones(100000))
    text = repr(p)
    assert "float64[100000]" in text and len(text) < 200


def test_remake_validates_and_names_fields():
    p = toy.Decay(x0=[1.0])
    q = tk.remake(p, rate=3.0)
    assert q.rate == 3.0 and p.rate == 1.0
    with pytest.raises(tk.InvalidProblemError, match="rate"):
        tk.remake(p, rate=-1.0)
    with pytest.raises(tk.InvalidProblemError, match="no field ratee; its fields are: x0, rate"):
        tk.remake(p, ratee=1.0)
    with pytest.raises(tk.InvalidSolverError, match="no field sed"):
        tk.remake(toy.Euler(), sed=1)


def test_structural_equality():
    assert toy.Decay(x0=[1.0, 2.0]) == toy.Decay(x0=[1.0, 2.0])
    assert toy.Decay(x0=[1.0, 2.0]) != toy.Decay(x0=[1.0, 2.5])
    assert hash(toy.Decay(x0=[1.0])) == hash(toy.Decay(x0=[1.0]))


def test_solver_validation_uses_solver_error():
    with pytest.raises(tk.InvalidSolverError, match="seed"):
        toy.Euler(seed=-1)
    assert toy.Euler.stochastic and not toy.ExactDecay.stochastic and toy.ExactDecay.example() == toy.ExactDecay()


def test_solution_basics():
    sol = tk.solve(toy.Decay(x0=[1.0, 2.0], steps=20, save_every=10), toy.ExactDecay())
    assert sol.successful and sol.retcode.successful
    ds = sol.to_xarray()
    assert ds["x"].dims == ("time", "component") and ds.attrs["retcode"] == "Success"
    assert "retcode=Success" in repr(sol)
    assert sol.distance(sol) == 0.0


def test_return_codes_give_advice():
    for code in tk.ReturnCode:
        assert code.advice
    assert tk.ReturnCode.Terminated.successful and not tk.ReturnCode.Unstable.successful


@pytest.mark.parametrize("helper,value,pattern", [
    (lambda x: v.real_array("a", x, ndim=1), [[1.0]], "1-dimensional"),
    (lambda x: v.real_array("a", x, shape=(3,)), [1.0, 2.0], r"shape \(3,\)"),
    (lambda x: v.real_array("a", x), "abc", "array of numbers"),
    (lambda x: v.real_array("a", x), [1 + 2j], "real"),
    (lambda x: v.real_array("a", x, lower=0), [-1.0], ">= 0"),
    (lambda x: v.index_array("i", x, upper=3), [0, 3], "< 3"),
    (lambda x: v.index_array("i", x), [0.5], "integers"),
    (lambda x: v.bool_array("m", x), [0, 2], "boolean"),
    (lambda x: v.real_scalar("s", x), "1.0", "real number"),
    (lambda x: v.real_scalar("s", x), float("inf"), "finite"),
    (lambda x: v.real_scalar("s", x), True, "real number"),
    (lambda x: v.integer("n", x), 2.0, "integer"),
    (lambda x: v.choice("kind", x, ["a", "b"]), "c", "choose one of 'a', 'b'"),
    (lambda x: v.choice("kind", x, ["a", "b"]), [1], "choose one of"),
    (lambda x: v.probability("f", x), 1.5, "<= 1"),
    (lambda x: v.shape_tuple("shape", x, ndim=2), (4,), "2 dimensions"),
    (lambda x: v.shape_tuple("shape", x), (4, 0), ">= 1"),
])
def test_validation_helpers_name_field_and_allowed(helper, value, pattern):
    with pytest.raises(tk.InvalidProblemError, match=pattern):
        helper(value)


def test_validation_helpers_normalise():
    assert v.index_array("i", [1.0, 2.0]).dtype == np.int64
    assert v.bool_array("m", [0, 1]).dtype == np.bool_
    assert v.complex_array("c", [1, 2]).dtype == np.complex128
    assert v.shape_tuple("s", 5) == (5,)
    assert v.real_scalar("x", None, allow_none=True) is None


def test_records_roundtrip_sparse_and_nested():
    from toolkit import records

    import sparse

    obj = {"m": sp.random(5, 5, density=0.4, random_state=1, format="csr"),
           "c": sparse.COO.from_numpy(np.eye(3)), "z": 1 + 2j, "t": (1, "a", None),
           "p": toy.Decay(x0=[1.0]), "code": tk.ReturnCode.Unstable, "cls": toy.Euler}
    arrays = {}
    tree = records.encode(obj, arrays, "r")
    back = records.decode(tree, arrays)
    assert (back["m"] != obj["m"]).nnz == 0
    np.testing.assert_array_equal(back["c"].todense(), np.eye(3))
    assert back["z"] == 1 + 2j and back["t"] == (1, "a", None) and back["p"] == obj["p"]
    assert back["code"] is tk.ReturnCode.Unstable and back["cls"] is toy.Euler
    with pytest.raises(TypeError, match="cannot store"):
        records.encode(lambda: 1, {}, "f")


def test_scalar_annotations_are_checked_before_validate():
    """Fields annotated bool/int/float/str are type-checked and normalised for every family."""

    class Knobs(tk.Solver):
        flag: bool = False
        order: int = 4
        scale: float = 1.0
        name: str = "a"
        limit: float | None = None

    knobs = Knobs(order=np.int64(3), scale=2)
    assert type(knobs.order) is int and type(knobs.scale) is float and knobs.limit is None
    for field, bad, advice in [("flag", "yes", "True or False"), ("order", 2.5, "integer"),
                               ("scale", float("nan"), "NaN"), ("scale", "big", "real number"),
                               ("name", 3, "string"), ("order", True, "integer")]:
        with pytest.raises(tk.InvalidSolverError, match=f"{field} = .*{advice}"):
            Knobs(**{field: bad})


def test_remake_clears_the_alternatives_of_a_changed_field():
    class Fluid(tk.Problem):
        exclusive_fields = (("viscosity", "tau"),)
        viscosity: float | None = None
        tau: float | None = None

        def _validate(self):
            if (self.viscosity is None) == (self.tau is None):
                raise tk.InvalidProblemError("give viscosity or tau")
            if self.tau is None:
                self._set("tau", 3 * self.viscosity + 0.5)

    fluid = Fluid(viscosity=0.1)
    assert tk.remake(fluid, tau=1.0).tau == 1.0
    assert tk.remake(fluid, viscosity=0.2).tau == pytest.approx(1.1)


def test_ragged_arrays_are_refused_by_name():
    from toolkit import validate as v

    with pytest.raises(tk.InvalidProblemError, match="x = .* rectangular"):
        v.real_array("x", [[1.0, 2.0], [3.0]])


def test_index_arrays_refuse_values_that_do_not_fit_int64():
    from toolkit import validate as v

    with pytest.raises(tk.InvalidProblemError, match="below 2\\*\\*53"):
        v.index_array("i", [1e308])
    with pytest.raises(tk.InvalidProblemError, match="below 2\\*\\*63"):
        v.index_array("i", np.array([2**64 - 1], dtype=np.uint64))
    assert v.index_array("i", [3.0, 4.0]).tolist() == [3, 4]


def test_choice_refuses_arrays_by_name():
    from toolkit import validate as v

    for bad in (np.zeros(0), np.array(["a", "b"]), ["a"], {"a": 1}):
        with pytest.raises(tk.InvalidProblemError, match="kind = .* choose one of 'a', 'b'"):
            v.choice("kind", bad, ("a", "b"))
    assert v.choice("kind", "a", ("a", "b")) == "a"
