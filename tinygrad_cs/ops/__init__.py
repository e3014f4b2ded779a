"""Primitive ops, one file per family.  Each op is a ``Function`` subclass with forward
(NumPy) and backward (Tensor ops) side by side, and its gradcheck cases."""
