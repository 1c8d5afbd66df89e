"""Operations endpoints: health, readiness and Prometheus metrics."""
from checkie.ops import views

BLUEPRINTS = (views.bp,)
