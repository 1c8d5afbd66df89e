from flask_smorest import Blueprint

blp = Blueprint("api_users", __name__, url_prefix="/api/users", description="users")
