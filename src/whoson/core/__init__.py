"""The pure domain core: events, models and the projection between them.

Nothing in this package performs I/O, reads the wall clock or imports a store.
"""
