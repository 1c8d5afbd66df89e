"""The signed-in merchant user's own account over JSON: profile, password, deletion (SPEC §6.6)."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView

from checkie.accounts import services
from checkie.api.account_schemas import (
    ChangePasswordSchema,
    DeleteAccountSchema,
    UserSchema,
    UserUpdateSchema,
)
from checkie.api.common import auth_required, current_user
from checkie.api.errors import ApiBlueprint
from checkie.api.schemas import ErrorSchema
from checkie.extensions import db
from checkie.stores.accounts import delete_user

blp = ApiBlueprint(
    "api_users", __name__, url_prefix="/api/users", description="Your own user account: profile, password, deletion.",
)


@blp.route("/me")
class Me(MethodView):
    @auth_required(blp, user_only=True)
    @blp.response(200, UserSchema)
    def get(self):
        """Your user account."""
        return current_user()

    @auth_required(blp, user_only=True)
    @blp.arguments(UserUpdateSchema, required=False)
    @blp.response(200, UserSchema)
    def patch(self, data: dict):
        """Change your name and/or email address.

        A new address needs `currentPassword`, starts unconfirmed, and gets a confirmation link."""
        user = services.update_profile(db.session, current_user(), **data)
        db.session.commit()
        return user

    @auth_required(blp, user_only=True)
    @blp.arguments(DeleteAccountSchema)
    @blp.response(204)
    @blp.alt_response(409, schema=ErrorSchema, description="You still own a store: delete it first.")
    def delete(self, data: dict):
        """Delete your account, confirmed with your password.

        Refused with 409 while you own a store. Team memberships and tokens go with it."""
        delete_user(db.session, current_user(), password=data["password"])
        db.session.commit()
        return Response(status=204)


@blp.route("/me/password", methods=["PATCH"])
@auth_required(blp, user_only=True)
@blp.arguments(ChangePasswordSchema)
@blp.response(204)
def change_password(data: dict):
    """Change your password.

    Every session and token of the account ends, including the one making this call: sign in
    again with the new password. A notice is emailed to you."""
    services.change_password(
        db.session, current_user(), current_password=data["current_password"], new_password=data["new_password"]
    )
    db.session.commit()
    return Response(status=204)
