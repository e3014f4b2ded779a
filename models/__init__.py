"""Models, data loaders and training loops built on tinygrad_cs and layers."""
