#!/usr/bin/env python3
"""Writes python-json-expected.json: the oracle for PythonJsonTest.

Run with CPython 3 from this directory: python3 make_python_json_expected.py
Each document is parsed with json.loads and rendered with json.dumps(indent=4, ensure_ascii=False), the way
ChatGLM3's build_chat_input renders tools. Floats are given by their IEEE-754 bits and rendered the same way.
"""
import json
import random
import struct

DOCUMENTS = [
    '[]', '{}', 'null', 'true', 'false', '0', '-7', '"plain"', '1.0', '-0.0', '1e400', '-1e400',
    '[[]]', '[{}]', '{"a": {}}', '{"a": []}', '[1, [2, [3, []]], {"k": [{}]}]',
    '{"name": "track", "description": "追踪指定股票的实时价格", "parameters": {"type": "object", '
    '"properties": {"symbol": {"description": "需要追踪的股票代码"}}, "required": ["symbol"]}}',
    '{"z": 1, "a": 2, "m": 3}',
    '"quote \\" backslash \\\\ slash / newline \\n cr \\r tab \\t bs \\b ff \\f"',
    '"controls \\u0000 \\u0001 \\u001f \\u007f \\u0080 \\u2028 \\u2029 \\ufeff"',
    '"emoji 😀 and CJK 中文 and é and \\ud83d\\ude00"',
    '{"key with \\"quotes\\"\\n": "v", "中文键": ["值", 1, 2.5, null, true]}',
    '[123456789012345678901234567890, -98765432109876543210, 9007199254740993]',
    '[0.1, 0.2, 0.30000000000000004, 1.5, 100.0, 1e16, 1e15, 123456789012345678.0, 0.0001, 0.00001,'
    ' 1e-7, 1.5e-7, 1e22, 1e23, 2e23, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 3.14159, 2.5e-5,'
    ' 9999999999999998.0, 0.001, 12345.678, 1E2, 1.0e0]',
    '{"nested": {"deeper": {"deepest": [1, {"x": "y"}]}}, "after": "end"}',
]

SPECIAL_FLOATS = [0.0, -0.0, float('nan'), float('inf'), float('-inf'), 5e-324, 1e-323, 2.5e-323, 4.9e-324,
                  1e16, 1e15, 9.999999999999999e15, 1e-4, 9.999999999999999e-5, 1e-5, 0.1, 1 / 3, 2 / 3,
                  1e100, 1e-100, 1.7976931348623157e308, 2.2250738585072014e-308, 2.225073858507201e-308,
                  8.98846567431158e307, 123.456, 1e21, 1e22, 1e23, 5e22, 9e15, 9.5e15, 3e-5, 7e-310]


def bits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def main():
    rnd = random.Random(20240601)
    floats = list(SPECIAL_FLOATS)
    while len(floats) < 3000:
        kind = rnd.randrange(4)
        if kind == 0:  # any finite double
            x = struct.unpack('<d', struct.pack('<Q', rnd.getrandbits(64)))[0]
            if x != x or x in (float('inf'), float('-inf')):
                continue
        elif kind == 1:  # short decimals, the usual case in tool schemas
            x = round(rnd.uniform(-1000, 1000), rnd.randrange(0, 6))
        elif kind == 2:  # around the fixed/exponent switch points
            x = rnd.uniform(1, 10) * 10.0 ** rnd.choice([-6, -5, -4, -3, 14, 15, 16, 17])
        else:  # one or two significant digits at any magnitude
            x = float('%de%d' % (rnd.randrange(1, 100), rnd.randrange(-330, 300)))
        floats.append(x)
    out = {
        'generator': 'make_python_json_expected.py',
        'documents': [{'input': d, 'dumps': json.dumps(json.loads(d), indent=4, ensure_ascii=False)}
                      for d in DOCUMENTS],
        'floats': [{'bits': '%016x' % bits(x), 'dumps': json.dumps(x)} for x in floats],
    }
    with open('python-json-expected.json', 'w', encoding='utf-8') as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
