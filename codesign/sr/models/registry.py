"""Name → constructor registry of super-resolution networks (timm style).

A network registers itself with ``@register("name")`` on a class or function that takes
``scale`` (the upscaling factor) plus keyword options and returns an ``nn.Module`` mapping
an LR tensor (N, 3, h, w) in [0, 1] to an HR tensor (N, 3, scale·h, scale·w).
This module imports nothing but typing and torch.nn, so any model module may import it.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from torch import nn

ModelFactory = Callable[..., nn.Module]
F = TypeVar("F", bound=ModelFactory)

_MODELS: dict[str, ModelFactory] = {}


class UnknownModelError(KeyError, ValueError):
    """Raised by ``build_model`` for a name nobody registered; the message lists known names."""

    def __str__(self) -> str:  # KeyError would otherwise print the message in quotes
        return str(self.args[0])


def register(name: str) -> Callable[[F], F]:
    """Decorator registering a model factory under ``name`` (names are unique)."""

    def decorator(factory: F) -> F:
        if name in _MODELS:
            raise ValueError(f"model name {name!r} is already registered by {_MODELS[name]!r}")
        _MODELS[name] = factory
        return factory

    return decorator


def list_models() -> list[str]:
    """Registered model names, sorted."""
    return sorted(_MODELS)


def build_model(name: str, scale: int, **kwargs) -> nn.Module:
    """Build the network registered as ``name`` for upscaling factor ``scale``."""
    try:
        factory = _MODELS[name]
    except KeyError:
        known = ", ".join(list_models()) or "(none)"
        raise UnknownModelError(f"unknown model {name!r}; known models: {known}") from None
    return factory(scale=scale, **kwargs)
