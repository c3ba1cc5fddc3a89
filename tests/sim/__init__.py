"""Tests of the shop simulator (whoson.sim) and ``whoson simulate``."""
