"""Emotionfy's Chalice application: wiring only; the work happens in `chalicelib`.

Routes and pipeline handlers (auth, uploads, the Step Functions steps) arrive with the backend issue.
"""

from __future__ import annotations

from chalice import Chalice, Response

from chalicelib.health import engine_health
from chalicelib.settings import engine_settings

app = Chalice(app_name="emotionfy")


@app.route("/health", methods=["GET"], cors=True)
def health() -> Response:
    settings = engine_settings()
    status, body = engine_health(settings.model_dir, settings.classifier)
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})
