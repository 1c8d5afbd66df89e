"""API sign-in state: access tokens carry the session epoch, refresh tokens rotate and detect reuse."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkie.accounts import refresh
from checkie.accounts.models import RefreshToken
from checkie.accounts.tokens import decode_access_token
from checkie.errors import AuthenticationFailed
from checkie.security import hash_token
from tests.factories import verified_user


def _row(db, raw: str) -> RefreshToken:
    return db.scalar(sa.select(RefreshToken).where(RefreshToken.token_hash == hash_token(raw)))


def test_a_pair_holds_an_access_token_for_the_user_and_epoch_and_a_hashed_refresh_token(app, db):
    user = verified_user(db)
    pair = refresh.issue_token_pair(db, user)
    assert decode_access_token(pair.access_token, secret=app.config["JWT_SECRET"]) == (user.id, user.session_epoch)
    row = _row(db, pair.refresh_token)
    assert row.user_id == user.id and row.token_hash != pair.refresh_token
    lifetime = row.expires_at - row.created_at
    assert abs(lifetime - app.config["REFRESH_TOKEN_EXPIRATION"]) < timedelta(seconds=5)


def test_rotation_revokes_the_used_token_and_continues_its_family(db):
    user = verified_user(db)
    first = refresh.issue_token_pair(db, user)
    who, second = refresh.rotate_refresh_token(db, first.refresh_token)
    assert who.id == user.id and second.refresh_token != first.refresh_token
    assert _row(db, first.refresh_token).revoked_at is not None
    assert _row(db, second.refresh_token).family == _row(db, first.refresh_token).family


def test_reusing_a_rotated_token_revokes_the_whole_family(db):
    user = verified_user(db)
    first = refresh.issue_token_pair(db, user)
    other_sign_in = refresh.issue_token_pair(db, user)
    _, second = refresh.rotate_refresh_token(db, first.refresh_token)
    with pytest.raises(refresh.RefreshTokenReused):
        refresh.rotate_refresh_token(db, first.refresh_token)
    db.commit()
    assert _row(db, second.refresh_token).revoked_at is not None
    assert _row(db, other_sign_in.refresh_token).revoked_at is None


def test_unknown_and_expired_refresh_tokens_are_refused(db):
    user = verified_user(db)
    pair = refresh.issue_token_pair(db, user)
    _row(db, pair.refresh_token).expires_at = _row(db, pair.refresh_token).created_at
    for raw in ("not-a-token", pair.refresh_token):
        with pytest.raises(AuthenticationFailed):
            refresh.rotate_refresh_token(db, raw)


def test_revoking_ends_one_token_and_revoking_a_user_ends_all(db):
    user = verified_user(db)
    one, two, three = (refresh.issue_token_pair(db, user) for _ in range(3))
    refresh.revoke_refresh_token(db, one.refresh_token)
    refresh.revoke_refresh_token(db, "unknown")  # logging out with a stale token is fine
    assert _row(db, one.refresh_token).revoked_at is not None
    assert _row(db, two.refresh_token).revoked_at is None
    refresh.revoke_user_refresh_tokens(db, user)
    db.expire_all()
    assert _row(db, two.refresh_token).revoked_at is not None and _row(db, three.refresh_token).revoked_at is not None
