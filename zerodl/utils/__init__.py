"""Tools around the engine: numerical gradients and gradient checks, graph export."""
from .gradcheck import GradCheckResult, gradient_check, numerical_grad
from .graph import plot_graph, to_dot

__all__ = ["numerical_grad", "gradient_check", "GradCheckResult", "to_dot", "plot_graph"]
