"""JWT access tokens for the JSON API (HS256, short-lived, `sub` = user id)."""
from __future__ import annotations

from datetime import timedelta

import jwt

from checkie.database import utcnow

_ALGORITHM = "HS256"


class InvalidAccessToken(Exception):
    pass


def create_access_token(user_id: int, session_epoch: str, *, secret: str, ttl: timedelta) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "sep": session_epoch, "typ": "access", "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> tuple[int, str]:
    """(user id, session epoch) of a valid, unexpired access token; InvalidAccessToken otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken(str(exc)) from None
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise InvalidAccessToken("not an access token")
    return int(claims["sub"]), str(claims.get("sep", ""))
