"""Runnable examples: ``python -m minitf.examples.mnist --model mlp``."""
