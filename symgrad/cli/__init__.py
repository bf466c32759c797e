"""The command-line interface (Typer). See ``app.py``."""
