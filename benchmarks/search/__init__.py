"""The search against its promises: budgets met when measured, FLOPs budgets, sparsestmax vs
Gumbel-softmax, and the Pareto front of searched networks."""
