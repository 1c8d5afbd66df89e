"""How an object becomes an event's `data`: exactly the JSON API's view of it (SPEC §6.6).

Those views are marshmallow schemas in the api package, which a domain package must not import;
so the api registers one function per model class when it starts (`register`), and
`record_event` finds it by the object's class. The webhooks package stays below the domains
that emit events, and the body a merchant receives is the one `GET /api/…` answers."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: {model class: the function that dumps one of its objects as the JSON API shows it}
_VIEWS: dict[type, Callable[[Any], dict]] = {}


def register(model: type, view: Callable[[Any], dict]) -> None:
    """Make `view(obj)` the `data` of events about objects of `model` (and its subclasses)."""
    _VIEWS[model] = view


def data_of(obj: Any) -> dict:
    """The JSON API view of `obj`; a dict is taken as already made (the `ping` event's data).
    An object without a registered view is a programming error, not bad input."""
    if isinstance(obj, dict):
        return obj
    for cls in type(obj).__mro__:
        if cls in _VIEWS:
            return _VIEWS[cls](obj)
    raise LookupError(f"no webhook view registered for {type(obj).__name__}; the api registers them in init_api")
