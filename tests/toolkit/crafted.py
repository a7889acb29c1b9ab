"""Write crafted scalebridge files: a real file with its record or arrays replaced.

The checksums are recomputed, as an attacker would, so the tests reach the decoder and the
state checks rather than stopping at the checksum.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from toolkit import io


def craft(source, target, tree=None, arrays: dict | None = None, attrs: dict | None = None,
          checksums: bool = True, tree_text: str | None = None):
    """Copy ``source`` to ``target`` with the record ``tree`` (or its JSON ``tree_text``), replaced
    ``arrays`` (key -> array) and extra ``attrs``; recompute the checksums unless ``checksums=False``."""
    with xr.open_dataset(source, engine="h5netcdf") as ds:
        ds = ds.load()
    kinds = json.loads(ds.attrs["scalebridge_arrays"])
    by_key = {entry[0]: name for name, entry in kinds.items()}
    values = {entry[0]: np.asarray(ds[name].values) for name, entry in kinds.items()}
    for key, value in (arrays or {}).items():
        value = np.asarray(value)
        name = by_key[key]
        ds = ds.drop_vars(name)
        ds[name] = (tuple(f"{name}_d{j}" for j in range(value.ndim)), value)
        kinds[name] = [key, "plain", str(value.dtype)]
        values[key] = value
    if tree is not None:
        ds.attrs["scalebridge_record"] = json.dumps(tree)
    if tree_text is not None:
        ds.attrs["scalebridge_record"] = tree_text
    ds.attrs["scalebridge_arrays"] = json.dumps(kinds)
    if checksums:
        table = {key: io.array_digest(np.ascontiguousarray(v)) for key, v in values.items()}
        table["<record>"] = io._text_digest(ds.attrs["scalebridge_record"] + ds.attrs["scalebridge_arrays"])
        ds.attrs["scalebridge_sha256"] = json.dumps(table)
    ds.attrs.update(attrs or {})
    ds.to_netcdf(target, engine="h5netcdf")
    return target


def record_of(path) -> dict:
    """The record tree of a file, as JSON."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return json.loads(ds.attrs["scalebridge_record"])
