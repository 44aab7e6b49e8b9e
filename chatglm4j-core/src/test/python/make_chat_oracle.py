#!/usr/bin/env python3
"""Writes python-oracle.json, CPython's own answers for the chat package's Python-syntax tests.

Run from the repository root with plain python3 (3.11, no extra packages):

    python3 chatglm4j-core/src/test/python/make_chat_oracle.py

Sections of the output (all values computed here by CPython, never by the Java code):
  literals      ast.literal_eval (eval with no builtins where literal_eval refuses) + json.dumps per source,
                or the error; "rejected_on_purpose" marks sources Python accepts but the Java parser refuses.
  tool_calls    eval of whole `tool_call(...)` sources with tool_call(**kw) returning kw, as the reference does.
  float_repr    repr(float) for edge cases and random bit patterns (dict keys are written with it).
  isspace       every code point for which str.isspace() is true (what str.strip() removes).
  extract_code  the composite demo's code extraction: last match of ```([^\\n]*)\\n(.*?)``` (DOTALL), group 2.
  responses     process_response as the reference documents it (split on <|assistant|>, first line is
                metadata, strip, [[训练时间]], eval of the middle lines), restated here for the oracle.
"""
import ast
import json
import math
import random
import re
import struct
import sys
import warnings
from pathlib import Path

warnings.simplefilter("ignore")  # invalid escapes such as '\d' warn but are valid

OUT = Path(__file__).resolve().parents[1] / "resources" / "io" / "github" / "chatglm4j" / "chat" / "python-oracle.json"

LITERALS = [
    # numbers
    "0", "7", "-7", "+7", "- 7", "00", "0_0", "1_000_000", "2147483647", "2147483648", "-2147483648", "-2147483649",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "123456789012345678901234567890",
    "0x1F", "0X_ff", "0o17", "0O777", "0b1011", "0B_1_0", "0xFFFFFFFFFFFFFFFFFFFF", "-0x10",
    "1.5", "-1.5", "1e-3", "1E+5", ".5", "5.", "1.e5", "01.5", "00.0", "1_0.2_5", "1e1_0", "-0.0", "0.0",
    "1e400", "-1e400", "5e-324", "1e-400", "0.1", "123456789.123456789", "2.5e-5", "9007199254740993",
    "--1", "-(1)", "-(-2.5)", "+-+3",
    # bad numbers
    "01", "1__0", "1_", "1_.5", "1e", "1e+", "0x", "0b102", "0o8", "1j", "1.5J", "1abc", "0x_", "1e5_",
    # constants and names
    "True", "False", "None", "true", "null", "foo", "foo(1)", "os.system('x')", "__import__('os')", "-True",
    # strings
    "'abc'", '"abc"', "'''a\nb'''", '"""a\nb"""', "''", '""', "''''''", "'\"'", '"\'"', "'it\\'s'",
    "'a\\nb\\tc\\\\d'", "'\\a\\b\\f\\v\\r'", "'\\x41\\x7e'", "'\\u4f60\\u597d'", "'\\U0001F600'", "'\\ud83d\\ude00'",
    "'\\101\\7\\777\\0'", "'\\N{LATIN SMALL LETTER A}'", "'\\N{em dash}'", "'\\N{NO SUCH NAME}'", "'\\N{ LATIN SMALL LETTER A}'",
    "'\\d\\8\\ '", "'line\\\ncontinued'", "r'\\n\\d'", "R'\\''", "r'\\\\'", "u'x'", "U'x'", "'a' 'b'", "'a'  \"b\" '''c'''",
    "r'a\\' 'b'", "'北京'", "'😀'", "'ä'", "'\\t中文\\n'", "'a\\\\'", "'''it's \"quoted\"'''", "'''a\\\nb'''",
    "'''x\r\ny'''", "'\u2028'",
    # bad strings
    "'abc", "'''abc''", "'a\nb'", "'\\x4'", "'\\xZZ'", "'\\u12'", "'\\U00110000'", "r'\\'", "'\\", "b'x'", "rb'x'",
    "f'x'", "ur'x'", "'a' b'b'",
    # containers
    "[]", "[1]", "[1, 2, 3]", "[1, 2,]", "[\n 1,\n 2\n]", "[1, # one\n 2]", "[1, [2, [3, []]]]", "()", "(1,)", "(1)",
    "((1))", "(1, 2)", "(1, 'a', None, )", "[(), (1,), [()]]", "{}", "{'a': 1}", "{'a': 1,}", "{'a': {'b': [1, {'c': None}]}}",
    "{\"k\": 'v', 'k2': \"v2\"}", "{1: 'a'}", "{1: 'a', True: 'b', 1.0: 'c'}", "{1: 'a', '1': 'b'}", "{0: 'x', -0.0: 'y', False: 'z'}",
    "{1.5: 1, 1e16: 2, 1e-5: 3, 0.1: 4, 1e22: 5, 123456789012345678.0: 6, -0.0: 7, 1e400: 8, 5e-324: 9}",
    "{True: 1, False: 2, None: 3}", "{10**2: 1}", "{12345678901234567890: 'big'}", "{'b': 1, 'a': 2, 'b': 3}",
    "{'中文': '值', 'emoji': '😀'}", "[1, 2.5, 'x', True, None, [], {}]", "{'a': (1, 2), 'b': [3, (4,)]}",
    # bad containers
    "[1, 2", "[1 2]", "[,]", "[1,,2]", "(1, 2", "{'a': 1", "{'a' 1}", "{'a': }", "{1, 2}", "{1}", "{(1, 2): 3}",
    "{[1]: 2}", "[*[1]]", "{**{'a': 1}}", "[1] [2]", "1 2", "", "   ", "[1]]", "(", "{", "[",
    # whitespace and comments at top level
    "  [1]  ", "[1] # trailing comment", "# leading comment\n[1]", "\\\n[1]",
]

REJECTED_ON_PURPOSE = {
    "f'x'": "f-strings are refused (the Java parser does not interpret replacement fields)",
    "[*[1]]": "unpacking is refused",
    "{**{'a': 1}}": "unpacking is refused",
    "{10**2: 1}": "operators are not literals",
    "-True": "unary minus only for numbers, like ast.literal_eval",
}

TOOL_CALLS = [
    "tool_call(city='北京')",
    "tool_call(seed=42, range=(0, 100))",
    "tool_call(symbol='10111')",
    "tool_call()",
    "tool_call(a=1, b='x', c=[1, 2], d={'k': None})",
    "tool_call(z=1, a=2, m=3)",
    "tool_call(query=\"SELECT * FROM t WHERE name = 'x'\", limit=10)",
    "tool_call(\n    location='San Francisco, CA',  # the city\n    unit=\"celsius\",\n)",
    "  tool_call(a=1)  ",
    "\ntool_call(a=1)\n",
    "# comment\ntool_call(a=1) # trailing",
    "tool_call (a = 1 , )",
    "tool_call \\\n (a=1)",
    "tool_call(城市='北京', 日期=\"2023-10-01\")",
    "tool_call(ｃｉｔｙ='x')",
    "tool_call(text='''line1\nline2''', n=-3.5e2)",
    "tool_call(nested={'a': [{'b': (1, 2.0, None)}], 'c': {1: True}})",
    "tool_call(big=123456789012345678901234567890, neg=-0x10, f=.5)",
    "tool_call(s='a' 'b'\n  'c')",
    # errors
    "tool_call(1)",
    "tool_call('x')",
    "tool_call(a=1, a=2)",
    "tool_call(a=1, 2)",
    "tool_call(**{'a': 1})",
    "tool_call(*[1])",
    "foo(a=1)",
    "tool_call(a=foo)",
    "tool_call(a=foo(1))",
    "tool_call(a=os.system('x'))",
    "tool_call(a=1",
    "tool_call(a='abc",
    "tool_call(a=[1, 2",
    "tool_call(a=",
    "tool_call(",
    "tool_call",
    "tool_call\n(a=1)",
    "tool_call(a=1)\ntool_call(b=2)",
    "tool_call(a=1);",
    "tool_call(a=1) extra",
    "tool_call(class=1)",
    "tool_call(True=1)",
    "tool_call(a==1)",
    "tool_call(,)",
    "tool_call(a=1,,b=2)",
    "",
    "\u00a0tool_call(a=1)",
]

TOOL_CALLS_REJECTED_ON_PURPOSE = {
    "tool_call(**{'a': 1})": "argument unpacking is refused",
}


def json_of(value):
    return json.dumps(value)


def literal_outcome(src):
    entry = {"source": src}
    try:
        value = ast.literal_eval(src)
        how = "literal_eval"
    except Exception as e:  # SyntaxError, ValueError, MemoryError, RecursionError
        try:
            value = eval(src, {"__builtins__": {}}, {})
            how = "eval"
        except Exception as e2:
            # drop object addresses ("<ast.Name object at 0x...>") so reruns give the same file
            entry["error"] = re.sub(r" at 0x[0-9a-f]+", "", f"{type(e).__name__}: {e}")
            return entry
    try:
        entry["json"] = json_of(value)
        entry["via"] = how
    except (TypeError, ValueError) as e:
        entry["error"] = f"json.dumps: {e}"
        entry["python_value"] = repr(value)
    return entry


def tool_call(**kwargs):
    return kwargs


def call_outcome(src):
    entry = {"source": src}
    try:
        value = eval(src, {"__builtins__": {}, "tool_call": tool_call}, {})
        entry["json"] = json_of(value)
    except Exception as e:
        entry["error"] = f"{type(e).__name__}: {e}"
    return entry


def float_cases():
    values = [0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1.5, 100.0, 1e15, 1e16, 1e17, 9999999999999998.0,
              1e22, 1e23, 0.0001, 0.00001, 0.000123, 1e-5, 1.7976931348623157e308, 2.2250738585072014e-308,
              2.225073858507201e-308, 5e-324, 1e-323, 1.5e-323, 2e-323, 2.5e-323, 4.9e-322, 123456789012345678.0,
              1234567890123456.7, 12345678901234567.0, 0.5, float(2 ** 53), float(2 ** 53 + 2), 2.0 ** -1074 * 7]
    values += [10.0 ** e for e in range(-325, 309)]
    values += [3 * 10.0 ** e for e in range(-320, 308, 7)]
    rng = random.Random(20240611)
    while len(values) < 3000:
        bits = rng.getrandbits(64)
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if math.isfinite(x):
            values.append(x)
    # subnormals and small exponents, where one-digit shortest forms occur
    for k in range(1, 400):
        values.append(struct.unpack("<d", struct.pack("<Q", k))[0])
    out = []
    for x in values:
        bits = struct.unpack("<Q", struct.pack("<d", x))[0]
        out.append([format(bits, "016x"), repr(x)])
    return out


CODE_TEXTS = [
    "```python\nprint(1)\n```",
    " ```python\nprint(1)\n```",
    "```\nx = 1\n```",
    "Here:\n```python\na = 1\n```\nand\n```py\nb = 2\n```\ndone",
    "```python\nprint('a')",
    "no fence at all",
    "```python",
    "````\nx\n````",
    "```a```\nb```",
    "```python\n```",
    "text ```inline``` text\n```python\nprint(2)\n```",
    "```python\r\nprint(1)\r\n```",
    "```python\nimport numpy as np\nprint(np.arange(3))\n```\n",
]


def extract_code(text):
    matches = re.findall(r"```([^\n]*)\n(.*?)```", text, re.DOTALL)
    return matches[-1][1] if matches else None


RESPONSES = [
    ("\n你好👋！我是人工智能助手 ChatGLM3-6B，很高兴见到你。", False),
    ("你好", False),
    ("   leading and trailing spaces  \n\n", False),
    ("\n 我的训练数据截止到[[训练时间]]。", False),
    ("", False),
    ("get_weather\n ```python\ntool_call(city='北京')\n```", True),
    ("random_number_generator\n ```python\ntool_call(seed=42, range=(0, 100))\n```", True),
    ("好的，我来查询。<|assistant|> get_weather\n ```python\ntool_call(city='上海', unit=\"celsius\")\n```", True),
    ("Some text<|assistant|> interpreter\n ```python\nprint(1)\n```", False),
    ("Some text<|assistant|>interpreter\n```python\nimport math\nprint(math.pi)\n```", False),
    ("get_weather\n ```python\ntool_call(city='北京')", True),
    ("get_weather\n ```python\ntool_call(city='北", True),
    ("get_weather", True),
    ("get_weather\n ```python\ntool_call(city=北京)\n```", True),
    ("get_weather\n ```python\ntool_call('北京')\n```", True),
    ("first<|assistant|>\n second<|assistant|> third\nbody", False),
    ("a<|assistant|>b<|assistant|>", False),
    ("track\n ```python\ntool_call(symbol='10111')\n```", False),
    ("\u00a0\n\u3000text\u2003", False),
    ("\n\u00a0text\u0085", False),
    ("name\n\u00a0```python\ntool_call(a=1)\n```\u00a0", True),
]


def process_response(output, tools):
    """The reference's process_response as described in docs/chatglm3-reference.md section 3."""
    history = []
    content = ""
    for response in output.split("<|assistant|>"):
        if "\n" in response:
            metadata, content = response.split("\n", 1)
        else:
            metadata, content = "", response
        if not metadata.strip():
            content = content.strip()
            history.append({"role": "assistant", "metadata": metadata, "content": content})
            content = content.replace("[[训练时间]]", "2023年")
        else:
            history.append({"role": "assistant", "metadata": metadata, "content": content})
            if tools:
                code = "\n".join(content.split("\n")[1:-1])
                try:
                    parameters = eval(code, {"__builtins__": {}, "tool_call": tool_call}, {})
                    content = {"name": metadata.strip(), "parameters": parameters}
                except Exception as e:
                    content = {"name": metadata.strip(), "error": f"{type(e).__name__}: {e}"}
            else:
                content = {"name": metadata.strip(), "content": content}
    return content, history


def main():
    literals = [literal_outcome(s) for s in LITERALS]
    for entry in literals:
        if entry["source"] in REJECTED_ON_PURPOSE:
            entry["rejected_on_purpose"] = REJECTED_ON_PURPOSE[entry["source"]]
    calls = [call_outcome(s) for s in TOOL_CALLS]
    for entry in calls:
        if entry["source"] in TOOL_CALLS_REJECTED_ON_PURPOSE:
            entry["rejected_on_purpose"] = TOOL_CALLS_REJECTED_ON_PURPOSE[entry["source"]]
    responses = []
    for text, tools in RESPONSES:
        reply, history = process_response(text, tools)
        entry = {"output": text, "tools": tools, "reply": reply, "history": history,
                 # the Java history keeps metadata and content stripped (see ResponseParser's javadoc)
                 "history_stripped": [{"role": h["role"], "metadata": h["metadata"].strip(),
                                       "content": h["content"].strip()} for h in history]}
        if isinstance(reply, dict) and reply.get("name") == "interpreter" and "content" in reply:
            entry["interpreter_code"] = extract_code(reply["content"])
        responses.append(entry)
    oracle = {
        "generator": "chatglm4j-core/src/test/python/make_chat_oracle.py",
        "python": sys.version.split()[0],
        "literals": literals,
        "tool_calls": calls,
        "float_repr": float_cases(),
        "isspace": [c for c in range(sys.maxunicode + 1) if chr(c).isspace()],
        "extract_code": [{"text": t, "code": extract_code(t)} for t in CODE_TEXTS],
        "responses": responses,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(oracle, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
