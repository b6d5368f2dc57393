import pytest

from audioenh.errors import SpecError
from audioenh.spec import Spec, format_spec, parse_spec


@pytest.mark.parametrize(
    "text, expected",
    [
        ("cheby1:6", Spec("cheby1", (6,))),
        ("butter:order=6,cutoff=11025", Spec("butter", (), {"order": 6, "cutoff": 11025})),
        ("ellip:6,rp=0.05,rs=20", Spec("ellip", (6,), {"rp": 0.05, "rs": 20})),
        ("resnet:dropout=0.5,batchnorm=true", Spec("resnet", (), {"dropout": 0.5, "batchnorm": True})),
        ("bessel:6,norm=phase", Spec("bessel", (6,), {"norm": "phase"})),
        ("snr", Spec("snr")),
        ("lsd-hf:cutoff=1.1e4", Spec("lsd-hf", (), {"cutoff": 11000.0})),
        ("  Cheby1 : 6 ", Spec("cheby1", (6,))),
    ],
)
def test_parse(text, expected):
    assert parse_spec(text) == expected


def test_value_types():
    spec = parse_spec("x:1,2.5,-3,true,abc,1e-3")
    assert spec.args == (1, 2.5, -3, True, "abc", 0.001)
    assert [type(v) for v in spec.args] == [int, float, int, bool, str, float]


@pytest.mark.parametrize(
    "text",
    [
        "cheby1:6",
        "butter:order=6,cutoff=11025",
        "ellip:6,rp=0.05,rs=20",
        "a:1.0,b=2.5,c=true,d=mag",
        "snr",
        "x:-1,y=1e-07",
    ],
)
def test_format_round_trips(text):
    spec = parse_spec(text)
    assert parse_spec(format_spec(spec)) == spec
    assert format_spec(parse_spec(format_spec(spec))) == format_spec(spec)


def test_format_is_canonical():
    assert format_spec(parse_spec(" butter : 6 , cutoff = 11025 ")) == "butter:6,cutoff=11025"
    assert str(parse_spec("ellip:6,rp=0.05")) == "ellip:6,rp=0.05"
    # floats that are whole keep their float type through a round trip
    assert format_spec(Spec("b", (), {"cutoff": 11025.0})) == "b:cutoff=11025.0"
    assert parse_spec("b:cutoff=11025.0").kwargs["cutoff"] == 11025.0


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty spec"),
        ("cheby1:", "nothing after ':'"),
        ("cheby1:6,,8", "empty argument"),
        ("cheby1:6,", "empty argument"),
        ("cheby1:order=6,8", "positional argument '8' after keyword"),
        ("cheby1:order=6,order=8", "given twice"),
        ("cheby1:=6", "not a valid parameter name"),
        ("cheby1:order=", "has no value"),
        ("-x:6", "name '-x'"),
        ("che by:6", "name"),
        ("a:1:2", "bad value"),
    ],
)
def test_malformed_specs_give_one_line(text, fragment):
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
