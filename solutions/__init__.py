"""Reference solutions, hidden checks and calibration data: instructor-only, never shipped."""
