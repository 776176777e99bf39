"""What the browser tests share: a staff user of a role, and logging in through the login page."""

from django.contrib.auth.models import Group


def role_user(user_model, username: str, role: str):
    """A staff user in a role group; the password is ``<username>-password``."""
    user = user_model.objects.create_user(username=username, password=f"{username}-password", is_staff=True)
    user.groups.set(Group.objects.filter(name=role))
    return user


def log_in(page, live_server, username, password=None, next_url="/staff/entitlements/"):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password or f"{username}-password")
    page.click("input[type=submit]")
