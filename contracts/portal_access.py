"""Contacts' access to the customer portal: invitations, roles, revocation and the one-time sign-in links.

A contact with access is a user of its own (no password, no staff flag, no permission): it signs in with a
link mailed to its address (django-sesame, one-time, valid SESAME_MAX_AGE seconds, scoped to the portal).
Access is given by the customer's account manager (who acts for the customer, contracts.ownership) or by
the customer's own portal admin; both go through these services, as does the admin.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from sesame.utils import get_query_string

from billing.errors import BillingError
from billing.mail import absolute_url, mail_contacts
from contracts.models import Contact, Customer, PortalAccess, PortalAction, PortalActivity, PortalRole
from contracts.ownership import acts_for

PORTAL_SCOPE = "portal"  # sesame tokens for the portal are good for nothing else


def portal_access_of(user) -> PortalAccess | None:
    """The active portal access a signed-in user holds, or None (staff, revoked, anonymous)."""
    if not getattr(user, "is_authenticated", False):
        return None
    access = getattr(user, "portal_access", None)  # RelatedObjectDoesNotExist is an AttributeError
    return access if access is not None and access.is_active else None


def portal_may_manage(*, by, customer: Customer) -> bool:
    """Whether ``by`` may give or take portal access for ``customer``'s contacts: a staff user who may
    change contacts and acts for the customer, or the customer's own portal admin; a system step (no user:
    the demo, an import) may."""
    if by is None:
        return True
    access = portal_access_of(by)
    if access is not None:
        return access.contact.customer_id == customer.pk and access.has_role(PortalRole.ADMIN)
    return bool(by and by.has_perm("contracts.change_contact") and acts_for(user=by, customer=customer))


def _check_may_manage(by, customer: Customer) -> None:
    if not portal_may_manage(by=by, customer=customer):
        raise BillingError(
            _("You may not manage portal access for %(customer)s's contacts."),
            code="portal_not_allowed",
            params={"customer": customer.code},
        )


def _clean_roles(roles) -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [role for role in roles if role not in PortalRole.values]
    if unknown or not roles:
        raise BillingError(
            _("Choose at least one portal role among billing, technical and admin."), code="portal_roles"
        )
    return [role for role in PortalRole.values if role in roles]


@transaction.atomic
def portal_invite(
    *, contact: Contact, roles, by, language: str | None = None, notify: bool = True
) -> PortalAccess:
    """Gives ``contact`` portal access with ``roles`` (again, if it was revoked) and mails it a sign-in
    link (unless not ``notify``). A contact needs an e-mail address, and an address opens one customer's
    portal only."""
    _check_may_manage(by, contact.customer)
    roles = _clean_roles(roles)
    email = (contact.email or "").strip()
    if not email:
        raise BillingError(
            _("%(contact)s has no e-mail address: the portal's sign-in link is sent by e-mail."),
            code="portal_no_email",
            params={"contact": contact.name},
        )
    taken = (
        PortalAccess.objects.filter(contact__email__iexact=email, revoked_at__isnull=True)
        .exclude(contact=contact)
        .exists()
    )
    if taken:
        raise BillingError(
            _("Another contact with the address %(email)s already has portal access."),
            code="portal_email_taken",
            params={"email": email},
        )
    access = PortalAccess.objects.select_for_update().filter(contact=contact).first()
    if access is None:
        user = get_user_model().objects.create_user(username=f"portal-{contact.pk}", email=email)
        access = PortalAccess(contact=contact, user=user, invited_by=_staff_or_none(by))
    else:
        user = access.user
        user.email, user.is_active = email, True
        user.save(update_fields=["email", "is_active"])
        access.revoked_at, access.invited_at, access.invited_by = None, timezone.now(), _staff_or_none(by)
    access.roles = roles
    if language:
        access.language = language
    access.save()
    portal_activity_record(access=access, action=PortalAction.INVITED, subject=", ".join(roles), by=by)
    if notify:
        transaction.on_commit(lambda: portal_link_send(access=access, invitation=True))
    return access


def portal_activity_record(
    *, access: PortalAccess, action: str, subject: str = "", by=None
) -> PortalActivity:
    """One line of the customer page's portal timeline: what the contact did (``by`` None) or what was done
    to its access by someone else (a staff user, or the customer's portal admin)."""
    actor = ""
    if by is not None and getattr(by, "pk", None) != access.user_id:
        other = portal_access_of(by)
        actor = other.contact.name if other is not None else by.get_username()
    return PortalActivity.objects.create(
        customer_id=access.contact.customer_id,
        contact=access.contact,
        action=action,
        subject=subject[:200],
        by=actor,
    )


def _staff_or_none(by):
    return None if portal_access_of(by) is not None else by


@transaction.atomic
def portal_roles_set(*, access: PortalAccess, roles, by) -> PortalAccess:
    _check_may_manage(by, access.contact.customer)
    access.roles = _clean_roles(roles)
    access.save(update_fields=["roles"])
    portal_activity_record(
        access=access, action=PortalAction.ROLES_CHANGED, subject=", ".join(access.roles), by=by
    )
    return access


@transaction.atomic
def portal_revoke(*, access: PortalAccess, by) -> PortalAccess:
    """Ends the contact's access: its sessions end at once (an inactive user is signed out on its next
    request) and its links stop working."""
    _check_may_manage(by, access.contact.customer)
    access.revoked_at = timezone.now()
    access.save(update_fields=["revoked_at"])
    access.user.is_active = False
    # a new unusable password changes the hash its sessions and links are bound to: invited again later,
    # the contact signs in afresh, nothing from before works again
    access.user.set_unusable_password()
    access.user.save(update_fields=["is_active", "password"])
    portal_activity_record(access=access, action=PortalAction.REVOKED, by=by)
    return access


def portal_sign_in_url(access: PortalAccess, *, next_path: str = "") -> str:
    """The absolute one-time sign-in link of ``access``'s user, leading to ``next_path`` (a portal page)."""
    path = reverse("portal:enter") + get_query_string(access.user, scope=PORTAL_SCOPE)
    if next_path.startswith("/portal/") and next_path != "/portal/":
        path += "&" + urlencode({"next": next_path})
    return absolute_url(path)


def portal_link_send(*, access: PortalAccess, invitation: bool = False, next_path: str = "") -> None:
    """Mails ``access``'s contact a sign-in link, in the contact's language."""
    with translation.override(access.language):
        minutes = settings.SESAME_MAX_AGE // 60
        if invitation:
            subject = gettext("Your customer portal for %(customer)s") % {
                "customer": access.contact.customer.legal_name
            }
            intro = gettext(
                "You now have access to the customer portal of %(customer)s: service periods, quotas, "
                "quotes, charge requests and invoices in one place."
            ) % {"customer": access.contact.customer.legal_name}
        else:
            subject = gettext("Sign in to the customer portal")
            intro = gettext("Here is the link you asked for to sign in to the customer portal.")
        body = "\n\n".join(
            [
                intro,
                gettext("Sign in (the link works once, for %(minutes)s minutes): %(link)s")
                % {"minutes": minutes, "link": portal_sign_in_url(access, next_path=next_path)},
                gettext("Later, ask for a new link at %(link)s")
                % {"link": absolute_url(reverse("portal:sign-in"))},
            ]
        )
    mail_contacts([access.contact], subject, body)


def portal_sign_in_request(*, email: str, next_path: str = "") -> None:
    """Mails a sign-in link to the contact with active access at ``email``, if there is one; says nothing
    either way (the sign-in form answers the same for every address)."""
    access = (
        PortalAccess.objects.select_related("contact__customer", "user")
        .filter(contact__email__iexact=email.strip(), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if access is not None:
        portal_link_send(access=access, next_path=next_path)


def portal_sign_out_everywhere(user) -> None:
    """Ends every session of a portal user and every link already sent: a new unusable password changes
    the hash that sessions and sesame tokens are bound to (a password the contact set goes with it)."""
    user.set_unusable_password()
    user.save(update_fields=["password"])
    if (access := portal_access_of(user)) is not None:
        portal_activity_record(access=access, action=PortalAction.SIGNED_OUT_EVERYWHERE)


def portal_language_set(*, access: PortalAccess, language: str) -> None:
    if language in dict(PortalAccess._meta.get_field("language").choices) and language != access.language:
        access.language = language
        access.save(update_fields=["language"])


def portal_signed_in(access: PortalAccess) -> None:
    portal_activity_record(access=access, action=PortalAction.SIGNED_IN)


@transaction.atomic
def portal_billing_details_save(*, access: PortalAccess, uscc: str, data: dict):
    """The customer's billing contact keeps its billing details: the USCC (validated as everywhere:
    contracts.setup.customer_update) and the fapiao details (contracts.fapiao_details_save's checks). Both
    are kept in the audit history under the contact's user, and the change is on the staff's timeline, so
    finance sees it before the next invoice."""
    from contracts.fapiao_details import fapiao_details_save
    from contracts.setup import customer_update

    if not access.has_role(PortalRole.BILLING):
        raise BillingError(_("Your portal roles do not include the billing details."), code="portal_role")
    customer = access.contact.customer
    if uscc.strip() != customer.uscc:
        customer = customer_update(customer=customer, by=None, uscc=uscc.strip())
    details = fapiao_details_save(customer=customer, data=data, by=None)
    portal_activity_record(access=access, action=PortalAction.BILLING_DETAILS_CHANGED, subject=details.title)
    return details


def portal_password_set(*, access: PortalAccess, password: str) -> None:
    """The contact's own password, optional beside the mailed links (validated by the form with Django's
    password validators). Signing out everywhere or losing access removes it."""
    access.user.set_password(password)
    access.user.save(update_fields=["password"])
    portal_activity_record(access=access, action=PortalAction.PASSWORD_SET)


def portal_password_user(*, request, email: str, password: str):
    """The portal user an address and password sign in, or None (unknown address, no password set, a wrong
    one: the same None; wrong passwords are counted by django-axes like the staff's)."""
    from django.contrib.auth import authenticate

    access = (
        PortalAccess.objects.select_related("user")
        .filter(contact__email__iexact=email.strip(), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    username = access.user.get_username() if access is not None else f"portal-unknown-{email}"
    user = authenticate(request, username=username, password=password)
    return user if user is not None and portal_access_of(user) is not None else None


def billing_details_changed_since(*, customer: Customer, since) -> PortalActivity | None:
    """The latest change of the customer's billing details made in the portal after ``since`` (any, when
    None): finance checks it before the next invoice goes out."""
    changes = PortalActivity.objects.filter(customer=customer, action=PortalAction.BILLING_DETAILS_CHANGED)
    if since is not None:
        changes = changes.filter(at__gt=since)
    return changes.select_related("contact").first()
