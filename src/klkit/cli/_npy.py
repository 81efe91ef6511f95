"""Read a ``.npy`` argument: the header is checked before any data, pickles never load."""

from __future__ import annotations

import io
import math

import numpy as np

from klkit.cli._values import Array, InputError, Table, check_count, quote

# --- .npy -----------------------------------------------------------------------------------


def read_npy(data: bytes, *, name: str, source: str, samples: bool) -> Table:
    fh = io.BytesIO(data)
    if data[:6] != b"\x93NUMPY":  # np.load would take anything else for a pickle
        msg = (
            f"{name}: {source} is not a valid .npy file (it lacks the .npy header); write it "
            "with np.save."
        )
        raise InputError(msg)
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, SyntaxError, TypeError, KeyError) as e:
        msg = (
            f"{name}: {source} is not a valid .npy file (its header: {quote(str(e))}); write "
            "it with np.save."
        )
        raise InputError(msg) from None
    if dtype.hasobject:
        msg = (
            f"{name}: {source} holds pickled Python objects, which klkit never loads "
            "(unpickling can run code); save a numeric array instead, e.g. "
            "np.save(path, np.asarray(values, dtype=float))."
        )
        raise InputError(msg)
    count = math.prod(shape)
    check_count(count, name=name, source=source)
    if count * dtype.itemsize > len(data) - fh.tell():
        msg = (
            f"{name}: {source} is not a valid .npy file: its header promises {count:,} values "
            f"of {dtype.itemsize} bytes, but the file is only {len(data):,} bytes; write it "
            "again with np.save."
        )
        raise InputError(msg)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        msg = f"{name}: {source} is not a valid .npy file ({quote(str(e))}); write it with np.save."
        raise InputError(msg) from None
    kind = array.dtype.kind
    if samples and kind in "US" and array.ndim == 1:
        return Table(_text_labels(array, name=name, source=source))
    if kind not in "biuf":
        what = {"c": "complex numbers", "U": "text", "S": "bytes"}.get(kind, "non-numbers")
        hint = " (text labels are read with --samples, one per entry of a 1-D array)"
        msg = (
            f"{name}: {source} holds {what} (dtype {array.dtype}); probabilities must be real "
            f"numbers. Save a float or integer array{hint if kind in 'US' else ''}."
        )
        raise InputError(msg)
    if array.ndim == 0:
        msg = f"{name}: {source} holds a single number, not a distribution; save a 1-D array."
        raise InputError(msg)
    return Table(np.asarray(array, dtype=np.float64))


def _text_labels(array: Array, *, name: str, source: str) -> Array:
    if array.dtype.kind == "U":
        return array
    try:
        return np.array([b.decode("utf-8") for b in array.tolist()], dtype=str)
    except UnicodeDecodeError:
        msg = f"{name}: {source} holds bytes that are not UTF-8 text; save the labels as str."
        raise InputError(msg) from None
