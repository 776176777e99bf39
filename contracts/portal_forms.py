"""The one form of portal access, used by the staff's page of a customer's contacts and by the customer's
own portal admin: give access with roles, change roles, take it away (contracts.portal_access)."""

from django import forms
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from contracts.models import Contact, Customer, PortalAccess, PortalRole
from contracts.portal_access import portal_invite, portal_revoke, portal_roles_set


class PortalAccessForm(forms.Form):
    action = forms.ChoiceField(choices=[("invite", "invite"), ("roles", "roles"), ("revoke", "revoke")])
    contact = forms.IntegerField(widget=forms.HiddenInput)
    roles = forms.MultipleChoiceField(
        label=_("Portal roles"),
        choices=PortalRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


def contacts_with_access(customer: Customer) -> list[Contact]:
    """The customer's contacts, each with ``access`` (its portal access or None): two queries."""
    contacts = list(customer.contacts.all())
    accesses = {
        access.contact_id: access for access in PortalAccess.objects.filter(contact__customer=customer)
    }
    for contact in contacts:
        contact.access = accesses.get(contact.pk)
    return contacts


def portal_access_post(request, customer: Customer) -> tuple[bool, str]:
    """Does what the posted form asks for one of ``customer``'s contacts, as ``request.user`` (the services
    check who may); (done, the message to show)."""
    form = PortalAccessForm(request.POST)
    if not form.is_valid():
        return False, gettext("Please choose a contact and its roles.")
    contact = get_object_or_404(Contact, pk=form.cleaned_data["contact"], customer=customer)
    action, roles = form.cleaned_data["action"], form.cleaned_data["roles"]
    try:
        if action == "invite":
            portal_invite(contact=contact, roles=roles, by=request.user)
            return True, gettext("%(contact)s is invited: a sign-in link is on its way.") % {
                "contact": contact.name
            }
        access = get_object_or_404(PortalAccess, contact=contact)
        if action == "roles":
            portal_roles_set(access=access, roles=roles, by=request.user)
            return True, gettext("%(contact)s's portal roles are saved.") % {"contact": contact.name}
        portal_revoke(access=access, by=request.user)
        return True, gettext("%(contact)s no longer has portal access.") % {"contact": contact.name}
    except BillingError as error:
        return False, str(error)
