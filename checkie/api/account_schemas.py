"""JSON shapes of the auth and users endpoints (SPEC §6.6), camelCase on the wire.

Request schemas check types and sizes only; the account rules (address format, password
policy) live in checkie.accounts.services, whose field errors (`current_password`) the API
answers under the keys the client sent (`currentPassword`).
"""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from checkie.accounts.services import (
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
)
from checkie.api.schemas import CamelSchema

_PASSWORD_RULES = f"At least {MIN_PASSWORD_LENGTH} characters, and not your email address."


def _storable(value: str) -> None:
    """PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded: refuse them here
    as a 422 instead of letting them reach the database or the password hasher as a 500."""
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValidationError("Contains characters that are not allowed.")


def _text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(max=max_length), _storable], **kwargs)


class UserSchema(CamelSchema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    email_verified = fields.Function(
        lambda user: user.email_verified_at is not None,
        required=True,
        metadata={"type": "boolean", "description": "Whether the address was confirmed through the emailed link."},
    )
    created_at = fields.DateTime(required=True)


class RegisterSchema(CamelSchema):
    email = _text(254, required=True)
    password = _text(MAX_PASSWORD_LENGTH, required=True, metadata={"description": _PASSWORD_RULES})
    name = _text(MAX_NAME_LENGTH, required=True)


class LoginSchema(CamelSchema):
    email = _text(254, required=True)
    password = _text(MAX_PASSWORD_LENGTH, required=True)


class TokenPairSchema(CamelSchema):
    access_token = fields.String(
        required=True, metadata={"description": "A JWT for `Authorization: Bearer …`, valid for 15 minutes."}
    )
    refresh_token = fields.String(
        required=True, metadata={"description": "Trade it at /api/auth/refresh for a new pair; valid 7 days, single use."}
    )


class AuthResultSchema(TokenPairSchema):
    user = fields.Nested(UserSchema, required=True)


class RefreshTokenSchema(CamelSchema):
    refresh_token = _text(200, required=True)


class ForgotPasswordSchema(CamelSchema):
    email = _text(254, required=True)


class MessageSchema(CamelSchema):
    message = fields.String(required=True)


class ResetPasswordSchema(CamelSchema):
    token = _text(200, required=True, metadata={"description": "The token from the emailed /reset-password/<token> link."})
    password = _text(MAX_PASSWORD_LENGTH, required=True, metadata={"description": _PASSWORD_RULES})


class UserUpdateSchema(CamelSchema):
    name = _text(MAX_NAME_LENGTH)
    email = _text(254, metadata={"description": "A new address starts unconfirmed; a confirmation link is emailed to it."})
    current_password = _text(MAX_PASSWORD_LENGTH, metadata={"description": "Required when `email` changes."})


class ChangePasswordSchema(CamelSchema):
    current_password = _text(MAX_PASSWORD_LENGTH, required=True)
    new_password = _text(MAX_PASSWORD_LENGTH, required=True, metadata={"description": _PASSWORD_RULES})


class DeleteAccountSchema(CamelSchema):
    password = _text(MAX_PASSWORD_LENGTH, required=True, metadata={"description": "Your current password, to confirm."})
