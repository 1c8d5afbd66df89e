from flask_smorest import Blueprint

blp = Blueprint("api_members", __name__, url_prefix="/api/members", description="members")
