"""Notebooks: building cells with nbgrader metadata, and reading submissions."""
