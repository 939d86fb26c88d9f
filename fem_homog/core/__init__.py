"""Core: errors users see, frequency units, timing and progress logging. Imports nothing else of the suite."""
