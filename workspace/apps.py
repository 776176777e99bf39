from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The staff pages (everything under /staff/): they read the other apps through their selectors and
    act through their services; this app owns no model and no rule."""

    name = "workspace"
