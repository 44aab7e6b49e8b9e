"""Writes CPython's answers for the built-in tools' tests to ../resources/io/github/chatglm4j/agent/tool/python-oracle.json.

random_number_generator in the reference composite demo is random.Random(seed).randint(*range), and its tools return
str() of their results (Python repr for containers). Rerun after changing the cases: python3 make_tool_oracle.py
"""
import json
import os
import random

RANDINT = [
    (42, 0, 100), (0, 0, 100), (1, 1, 6), (-7, 1, 6), (123456789, -1000, 1000), (2 ** 40 + 3, 0, 10 ** 12),
    (2 ** 70 + 5, 0, 2 ** 33), (99, 5, 5), (31337, 0, 2 ** 62), (7, -(2 ** 63), 2 ** 63 - 1),
]

REPR = [
    "plain", "it's", 'say "hi"', "both ' and \"", "tab\tnew\nline\\", "\x00\x1f\x7f\x80\xa0", "你好，世界",
    "emoji 👋", "\u200b\u2028\ue000", "", 0, -12, 2 ** 70, 1.0, 0.1, 1e16, 1e15, 1e-05, 0.0001, 123.456, -0.0,
    1.5e300, 2.5e-300, True, False, None, [], {}, [1, "a", None, [True]],
    {"current_condition": {"temp_C": "5", "weatherDesc": [{"value": "Partly cloudy"}], "n": 3.25}},
]


def random_number_generator(seed, range):
    pass


def three(a, b, c):
    pass


def call_errors():
    """Python's own TypeError texts for calls that do not bind, which the registry reproduces."""
    cases = [(random_number_generator, {"seed": 1}), (random_number_generator, {}), (three, {}),
             (random_number_generator, {"seed": 1, "range": (0, 1), "extra": 2}),
             (random_number_generator, {"sed": 1, "range": (0, 1)})]
    out = []
    for fn, kwargs in cases:
        try:
            fn(**kwargs)
        except TypeError as e:
            out.append({"tool": fn.__name__, "params": list(fn.__code__.co_varnames[:fn.__code__.co_argcount]),
                        "arguments": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()},
                        "message": "TypeError: " + str(e)})
    return out


# wttr.in's j1 format, cut down; the reference's get_weather returns str() of this selection
J1 = {"current_condition": [{"FeelsLikeC": "-3", "cloudcover": "0", "humidity": "27", "observation_time": "06:14 AM",
                             "temp_C": "1", "weatherDesc": [{"value": "Sunny"}], "winddir16Point": "NW"}],
      "nearest_area": [{"areaName": [{"value": "Beijing"}]}]}


def weather(resp):
    key_selection = {"current_condition": ["temp_C", "FeelsLikeC", "humidity", "weatherDesc", "observation_time"]}
    return str({k: {_v: resp[k][0][_v] for _v in v} for k, v in key_selection.items()})


here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "resources", "io", "github", "chatglm4j", "agent", "tool", "python-oracle.json")
data = {
    "randint": [{"seed": str(s), "a": str(a), "b": str(b), "value": str(random.Random(s).randint(a, b))}
                for s, a, b in RANDINT],
    # floats go through JSON as their repr text, so that the Java side reads exactly the same double
    "repr": [{"value": json.dumps(v), "repr": repr(v)} for v in REPR],
    "call_errors": call_errors(),
    "weather": {"j1": json.dumps(J1, ensure_ascii=False), "result": weather(J1)},
}
with open(out, "w", encoding="utf-8") as f:
    json.dump(data, f, ensure_ascii=False, indent=1)
    f.write("\n")
