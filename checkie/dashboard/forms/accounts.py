"""Forms for signing up, signing in, password resets and the account page.

They check only what a form can (present, not absurdly long, passwords typed twice alike); the
account rules live in checkie.accounts.services, whose errors the views put beside the field
they name (`copy_errors`), so each rule has one home. Pages that render a lone button form
(confirming an email, joining a store) use `ActionForm` for its token.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from checkie.accounts.services import (
    MAX_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
)

PASSWORD_HELP = f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words make a strong one."


def _email(label: str = "Email") -> EmailField:
    return EmailField(label, validators=[InputRequired("Enter your email address."), Length(max=254)])


def _password(label: str, message: str = "Enter your password.") -> PasswordField:
    return PasswordField(label, validators=[InputRequired(message), Length(max=MAX_PASSWORD_LENGTH)])


def _new_password(label: str) -> PasswordField:
    """A password being chosen: the policy's minimum is shown and checked by the browser too."""
    return PasswordField(
        label,
        validators=[InputRequired("Choose a password."), Length(max=MAX_PASSWORD_LENGTH)],
        description=PASSWORD_HELP,
        render_kw={"minlength": MIN_PASSWORD_LENGTH},
    )


def _name() -> StringField:
    return StringField("Your name", validators=[InputRequired("Tell us your name."), Length(max=MAX_NAME_LENGTH)])


class LoginForm(FlaskForm):
    email = _email()
    password = _password("Password")
    #: Where to go after logging in; checked by the view (same-site paths only).
    next = HiddenField()


class RegisterForm(FlaskForm):
    name = _name()
    email = _email("Work email")
    password = _new_password("Password")


class ForgotPasswordForm(FlaskForm):
    email = _email()


class ResetPasswordForm(FlaskForm):
    password = _new_password("New password")
    confirm = PasswordField("Repeat the new password", validators=[EqualTo("password", "The two passwords do not match.")])


class _AccountForm(FlaskForm):
    """The account page shows several forms at once; a prefix keeps their field ids unique."""

    prefix_name = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.prefix_name)
        super().__init__(*args, **kwargs)


class ProfileForm(_AccountForm):
    prefix_name = "profile"
    name = _name()
    email = _email()
    current_password = PasswordField("Current password", validators=[Optional(), Length(max=MAX_PASSWORD_LENGTH)])


class ChangePasswordForm(_AccountForm):
    prefix_name = "password"
    current_password = _password("Current password", "Enter your current password.")
    new_password = _new_password("New password")
    confirm = PasswordField("Repeat the new password", validators=[EqualTo("new_password", "The two passwords do not match.")])


class DeleteAccountForm(_AccountForm):
    prefix_name = "delete"
    password = _password("Your password", "Enter your password to confirm.")

