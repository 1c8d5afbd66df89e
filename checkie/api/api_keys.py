from flask_smorest import Blueprint

blp = Blueprint("api_api_keys", __name__, url_prefix="/api/api_keys", description="api_keys")
