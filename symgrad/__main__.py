"""``python -m symgrad``: the same as the ``symgrad`` command."""

from symgrad.cli.app import entry

if __name__ == "__main__":
    entry()
