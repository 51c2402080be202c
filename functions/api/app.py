"""The HTTP API: one Chalice app for career sites, recruiters and integrations.

Routes live in blueprints by resource (``chalicelib/``); each is declared with
``chalicelib.http.endpoint``, which authenticates, validates and maps errors to
problem+json. Domain logic lives in the ``crm`` package.
"""

import os

from aws_lambda_powertools import Logger
from chalice import Chalice, ConvertToMiddleware

from chalicelib import (
    admin,
    alerts,
    auth_routes,
    campaigns,
    candidates,
    careers,
    docs,
    jobs,
    pools,
    portal,
    public,
    reminders,
    sequences,
    templates,
    ui,
    ui_dashboard,
    ui_engagement,
    ui_jobs,
    ui_pools,
    ui_sequences,
    unsubscribe,
)

logger = Logger(service="crm")  # not the app name, or every line is logged twice

app = Chalice(app_name="crm-api")
app.api.binary_types.append("multipart/form-data")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))

for blueprint in (
    docs.bp,
    auth_routes.bp,
    public.bp,
    unsubscribe.bp,
    alerts.bp,
    portal.bp,
    careers.bp,
    ui.bp,
    ui_dashboard.bp,
    ui_pools.bp,
    ui_jobs.bp,
    ui_engagement.bp,
    ui_sequences.bp,
    candidates.bp,
    jobs.bp,
    pools.bp,
    templates.bp,
    campaigns.bp,
    sequences.bp,
    reminders.bp,
    admin.bp,
):
    app.register_blueprint(blueprint)

if os.environ.get("CRM_LOCAL_STACK") == "1":  # set by `crm dev` only: never in AWS
    from chalicelib import dev, ui_dev

    app.register_blueprint(dev.bp)
    app.register_blueprint(ui_dev.bp)
