import datetime

import factory

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
