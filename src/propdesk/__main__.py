"""``python -m propdesk``: the same command line as ``propdesk``."""

from propdesk.cli import main

if __name__ == "__main__":
    main()
