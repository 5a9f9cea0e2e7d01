"""Keypad card capture and payment processing; the only package that ever holds card data."""
