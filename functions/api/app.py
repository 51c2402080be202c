"""The HTTP API: one Chalice app for career sites, recruiters and integrations."""

from chalice import Chalice

app = Chalice(app_name="crm-api")


@app.route("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
