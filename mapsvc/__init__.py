"""mapsvc: map layers for citizen participation in Belgian municipalities."""


def __getattr__(name):
    # Lazy, so that importing a pure module (mapsvc.layers, mapsvc.suggest) never pulls in Flask.
    if name == "create_app":
        from mapsvc.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
