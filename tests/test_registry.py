import pytest

from audioenh.errors import DuplicateNameError, SpecError, UnknownNameError
from audioenh.registry import Registry


def make(order, cutoff=11025.0, rp=0.05):
    """A made-up filter."""
    if order > 20:
        raise ValueError("order too high")
    return (order, cutoff, rp)


@pytest.fixture
def reg():
    r = Registry("degradation")
    r.register("cheby1", make, plugin="p1")
    r.register("cheby2", make, plugin="p1")
    r.register_set("pair", ["cheby1:6", "cheby2:8"], plugin="p1")
    return r


def test_create_binds_positional_and_keyword(reg):
    assert reg.create("cheby1:6") == (6, 11025.0, 0.05)
    assert reg.create("cheby1:6,rp=0.1") == (6, 11025.0, 0.1)
    assert reg.create("cheby1:order=8,cutoff=9000") == (8, 9000, 0.05)


def test_canonical_writes_every_parameter(reg):
    assert reg.canonical("cheby1:6") == "cheby1:order=6,cutoff=11025.0,rp=0.05"
    assert reg.create(reg.canonical("cheby1:6,rp=0.1")) == reg.create("cheby1:6,rp=0.1")


def test_duplicate_name_is_a_clear_error(reg):
    with pytest.raises(DuplicateNameError, match="'cheby1' from plugin 'p2' clashes with the one from plugin 'p1'"):
        reg.register("cheby1", make, plugin="p2")


def test_unknown_name_lists_close_matches(reg):
    with pytest.raises(UnknownNameError) as info:
        reg.create("cheby3:6")
    assert "unknown degradation 'cheby3'" in str(info.value)
    assert "'cheby1'" in str(info.value) and "'cheby2'" in str(info.value)


def test_unknown_name_without_match_lists_known(reg):
    with pytest.raises(UnknownNameError, match="known: cheby1, cheby2, pair"):
        reg.create("zzzzzz")


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("cheby1:6,foo=1", "unexpected keyword argument 'foo'"),
        ("cheby1", "missing a required argument: 'order'"),
        ("cheby1:1,2,3,4", "too many positional arguments"),
    ],
)
def test_wrong_arguments_name_the_accepted_parameters(reg, spec, fragment):
    with pytest.raises(SpecError) as info:
        reg.create(spec)
    msg = str(info.value)
    assert fragment in msg
    assert "accepted: cheby1:order, cutoff=11025.0, rp=0.05" in msg
    assert "\n" not in msg


def test_factory_value_error_becomes_spec_error(reg):
    with pytest.raises(SpecError, match="'cheby1:30': order too high"):
        reg.create("cheby1:30")


def test_sets_expand_in_order(reg):
    assert reg.expand(["pair", "cheby1:10"]) == ["cheby1:6", "cheby2:8", "cheby1:10"]
    with pytest.raises(UnknownNameError):
        reg.expand(["nope"])


def test_unregister_plugin(reg):
    reg.unregister_plugin("p1")
    assert reg.names() == [] and reg.sets() == {}
