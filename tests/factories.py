import datetime

import factory
from django.contrib.auth.models import Permission

from catalog import models


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.BusinessCalendar
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"cal{n}")
    name_zh = factory.LazyAttribute(lambda o: f"日历 {o.code}")
    name_en = factory.LazyAttribute(lambda o: f"Calendar {o.code}")

    @factory.post_generation
    def five_by_eight(obj, create, extracted, **kwargs):
        """Monday-Friday 08:30-12:00 and 13:00-17:30, unless ``five_by_eight=False``."""
        if extracted is False or not create:
            return
        for weekday in range(5):
            for start, end in (
                (datetime.time(8, 30), datetime.time(12)),
                (datetime.time(13), datetime.time(17, 30)),
            ):
                models.WorkingWindow.objects.create(calendar=obj, weekday=weekday, start=start, end=end)


class HolidayScheduleDayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.HolidayScheduleDay

    kind = models.DayKind.HOLIDAY
    name_zh = "节日"
    name_en = "Holiday"


class RateCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RateCard

    code = factory.Sequence(lambda n: f"card{n}")
    version = 1
    effective_from = datetime.date(2025, 1, 1)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contracts.Customer"

    code = factory.Sequence(lambda n: f"CUST-{n:05d}")
    legal_name = factory.Sequence(lambda n: f"客户{n}有限公司")
    city = "北京"
    region = "北京市"


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contracts.Contract"

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"HT-{n:06d}")
    kind = "purchase"
    signed_on = datetime.date(2025, 1, 1)


class ServicePeriodFactory(factory.django.DjangoModelFactory):
    """A paid standard period on the seeded 5x8 calendar (needs the catalogue loaded)."""

    class Meta:
        model = "contracts.ServicePeriod"

    contract = factory.SubFactory(ContractFactory)
    kind = "paid"
    start = datetime.date(2025, 1, 1)
    end = datetime.date(2027, 12, 31)
    tier = factory.LazyFunction(lambda: models.ServiceTier.objects.get(code="standard"))
    calendar = factory.LazyFunction(lambda: models.BusinessCalendar.objects.get(code="5x8"))
    fee = 50000


class LicensedProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contracts.LicensedProduct"

    contract = factory.SubFactory(ContractFactory)
    product = factory.LazyFunction(lambda: models.Product.objects.get(code="KMS"))
    version = "8.5.2"


class PersonDayBundleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contracts.PersonDayBundle"

    contract = factory.SubFactory(ContractFactory)
    days = 10
    valid_from = datetime.date(2025, 1, 1)
    valid_until = datetime.date(2027, 12, 31)


def user_with(user_model, username: str, *codenames: str):
    """A staff user holding these permissions (read back, so no permission cache is stale)."""
    user = user_model.objects.create_user(username=username, password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user_model.objects.get(pk=user.pk)
