"""Plain data between the grader and a notebook: arrays, numbers, strings, None, and lists,
tuples and dicts of those, as JSON (arrays as raw bytes in base64, so float64 is exact). Never a
pickle: decoding plain data cannot run code.

This file is self-contained (it imports only the standard library and NumPy) because its source
is also sent into the sandboxed kernel at grading time, where `invoke` calls the student's
function. On a student's machine the same `invoke` runs in the notebook's own process.
"""
import base64
import json
import warnings

import numpy

DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"}
MAX_DEPTH = 20
SCALARS = {numpy.dtype(name).type for name in DTYPES}


class Unsupported:
    """Stands for a value that is not plain data (a function, a model, a generator...)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<a {self.type_name}>"


def encode(value, depth=0):
    """`value` as JSON-able data; what is not plain data becomes {"__unsupported__": its type}."""
    if depth > MAX_DEPTH:
        return {"__unsupported__": "structure nested too deep"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) in (int, float):
        return value
    if type(value) in SCALARS:       # NumPy's own scalar types only: a subclass may redefine item()
        return value.item()
    if isinstance(value, numpy.ndarray) and type(value) is numpy.ndarray and value.dtype.name in DTYPES:
        data = numpy.ascontiguousarray(value).tobytes()
        return {"__array__": base64.b64encode(data).decode("ascii"), "dtype": value.dtype.name,
                "shape": list(value.shape)}
    if type(value) in (list, tuple):
        items = [encode(item, depth + 1) for item in value]
        return items if type(value) is list else {"__tuple__": items}
    if type(value) is dict and all(type(key) is str for key in value):
        return {"__dict__": {key: encode(item, depth + 1) for key, item in value.items()}}
    return {"__unsupported__": type(value).__name__}


def decode(data, depth=0):
    """The value that `encode` made `data` from (Unsupported for what was not plain data)."""
    if depth > MAX_DEPTH:
        raise ValueError("plain data nested too deep")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item, depth + 1) for item in data]
    if type(data) is not dict:
        raise ValueError(f"not plain data: {type(data).__name__}")
    if "__array__" in data:
        if data.get("dtype") not in DTYPES:
            raise ValueError(f"array of an unknown dtype {data.get('dtype')!r}")
        shape = tuple(int(n) for n in data["shape"])
        flat = numpy.frombuffer(base64.b64decode(data["__array__"]), dtype=numpy.dtype(data["dtype"]))
        return flat.reshape(shape).copy()
    if "__tuple__" in data:
        return tuple(decode(item, depth + 1) for item in data["__tuple__"])
    if "__dict__" in data:
        return {str(key): decode(item, depth + 1) for key, item in data["__dict__"].items()}
    if "__unsupported__" in data:
        return Unsupported(str(data["__unsupported__"]))
    raise ValueError("not plain data: a dict without a known tag")


def invoke(namespace, name, payload, harness=""):
    """Call namespace[name](*args), the args decoded from the JSON text `payload`, with NumPy's
    floating-point errors and all warnings raised as exceptions; return the reply as JSON text:
    {"result": ..., "args": the arguments after the call}, {"error": [type, message]}, or
    {"missing": kind} when there is no such function.

    With `harness` (source code that defines `name`), the function called is the harness's, run
    in a copy of the namespace: it uses the student's classes and functions and returns plain data
    about what they did (for checks of behaviour, such as a callback stopping fit)."""
    if harness:
        namespace = dict(namespace)
        try:
            exec(compile(harness, "<grader harness>", "exec"), namespace)
        except BaseException as error:
            return json.dumps({"error": [type(error).__name__, str(error)[:2000]]})
    function = namespace.get(name)
    if function is None:
        return json.dumps({"missing": "undefined"})
    if not callable(function):
        return json.dumps({"missing": type(function).__name__})
    args = decode(json.loads(payload))
    try:
        with numpy.errstate(over="raise", divide="raise", invalid="raise"), warnings.catch_warnings():
            warnings.simplefilter("error")
            result = function(*args)
        return json.dumps({"result": encode(result), "args": encode(args)})
    except BaseException as error:   # SystemExit and KeyboardInterrupt are the student's too
        return json.dumps({"error": [type(error).__name__, str(error)[:2000]]})
