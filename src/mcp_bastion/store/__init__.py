"""Stores: the only I/O the guards and the audit log do. Interfaces in ``interface.py``."""
