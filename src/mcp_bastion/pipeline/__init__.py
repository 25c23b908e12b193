"""The guard pipeline: every Exchange passes one ordered chain of guards."""
