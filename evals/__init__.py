"""Offline conversation evals: scripted callers run through the real agent, scored and compared."""
