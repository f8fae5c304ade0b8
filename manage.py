#!/usr/bin/env python
"""Django's command-line utility for plantsite."""

import os
import sys


def main() -> None:
    """Run a management command with the default settings module."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantsite.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
