"""Tests of the course notebooks in assignments/."""
