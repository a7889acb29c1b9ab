"""Problem types, one module per family: data and validation, no numerics.

Imports run one way: ``problems`` imports only ``toolkit``.
"""
