"""The machinery under the public API: tensors, graphs, the op registry, execution, autodiff."""
