from flask_smorest import Blueprint

blp = Blueprint("api_stores", __name__, url_prefix="/api/stores", description="stores")
