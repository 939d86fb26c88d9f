"""The driver contract: defaults, ``--config``/``--set``/``--out``, config tables turned into typed objects.

The only package that sees config tables and TOML key names."""
