"""Orders: submit, cancel, replace and read; the resting-order evaluator; positions; trade updates."""
