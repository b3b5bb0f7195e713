"""`python -m bot` is the same as the `feedbackbot` command."""

from bot.cli import main

main()
