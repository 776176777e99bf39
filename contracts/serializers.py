"""API input and output for contracts (kept apart from the views so the schema reads them once)."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from billing.api import DecimalInput, FlagInput, TextInput, TicketInput
from catalog.models import ArrivalArea, Channel, FeeOverduePolicy, Role, Severity
from contracts.entitlements import reasons_as_dicts
from contracts.models import ChargeRequest, ChargeRequestEvent, ChargeStatus


class MoneySerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()

    def to_representation(self, value):
        if value is None:
            return None
        return {"amount": f"{value.amount:.2f}", "currency": str(value.currency)}


class SeverityField(serializers.ChoiceField):
    """1-4 (number or text) or non-fault."""

    def __init__(self, **kwargs):
        super().__init__(choices=Severity.choices, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(
            str(data) if isinstance(data, int) and not isinstance(data, bool) else data
        )


class CheckInput(serializers.Serializer):
    customer = TextInput(max_length=40, help_text=_("Customer code."))
    service = TextInput(max_length=60, help_text=_("Catalogue service code, e.g. defect-fix."))
    at = serializers.DateTimeField(required=False, help_text=_("ISO 8601 moment; default now."))
    severity = SeverityField(required=False, allow_null=True)
    product = TextInput(max_length=60, required=False, allow_blank=True)
    from_version = TextInput(max_length=20, required=False, allow_blank=True)
    to_version = TextInput(max_length=20, required=False, allow_blank=True)
    on_site = FlagInput(required=False, default=False)
    location = TextInput(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text=_("same_city, elsewhere, or a city name (the customer's own city keeps its area)."),
    )
    quantity = DecimalInput(
        max_digits=10, decimal_places=2, required=False, default=Decimal(1), min_value=Decimal("0.01")
    )
    role = serializers.ChoiceField(
        choices=Role.choices, required=False, help_text=_("For person-day prices.")
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text=_(
            "Where the request came in. On a statutory holiday a level with emergency cover reported on the "
            "hotline is answered on the emergency clock."
        ),
    )
    opened_at = serializers.DateTimeField(
        required=False,
        help_text=_(
            "When the ticket was opened (ISO 8601); default: at. Never after at. With a severity, the answer "
            "gives the escalation level that owns the ticket at at."
        ),
    )


class ReasonListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        return reasons_as_dicts(list(data))


class ReasonSerializer(serializers.Serializer):
    """A reason in both languages; the Chinese text's key is the language code ``zh-hans``."""

    class Meta:
        list_serializer_class = ReasonListSerializer

    def get_fields(self):
        return {
            "code": serializers.CharField(),
            "zh-hans": serializers.CharField(),
            "en": serializers.CharField(),
        }

    def to_representation(self, reason):
        return reason.as_dict()


class PeriodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contract = serializers.CharField(source="contract.number")
    kind = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    tier = serializers.CharField(source="tier.code")
    calendar = serializers.CharField(source="calendar.code")


class QuotaSerializer(serializers.Serializer):
    kind = serializers.CharField()
    allowance = serializers.DecimalField(max_digits=10, decimal_places=2)
    used = serializers.DecimalField(max_digits=10, decimal_places=2)
    left = serializers.DecimalField(max_digits=10, decimal_places=2)
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()


class CoveredProductSerializer(serializers.Serializer):
    product = serializers.CharField()
    version = serializers.CharField()


class ServicePeriodEventSerializer(PeriodSerializer):
    """A service period as its events show it (contracts.outbox): loaded by
    contracts.selectors.periods_shown, which adds its status and the products it covers."""

    customer = serializers.CharField(source="contract.customer.code")
    products = CoveredProductSerializer(
        source="products_covered",
        many=True,
        help_text=_(
            "The products the period covers: those its contract and the contracts it continues license "
            "(every product of the customer for a contract covering all), highest version each."
        ),
    )
    fee = MoneySerializer()
    trainings_per_year = serializers.IntegerField()
    retroactive = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["upcoming", "active", "renewed", "lapsed"])
    lapsed_at = serializers.DateTimeField(allow_null=True)


class QuotaEventSerializer(QuotaSerializer):
    """A quota as its events show it (contracts.outbox): for trainings the contract year of one period
    (``valid_from`` to ``valid_until``), for person-days the prepaid bundles valid on the day together."""

    customer = serializers.CharField(help_text=_("Customer code."))
    unit = serializers.ChoiceField(choices=["training", "person_day"])
    period = serializers.IntegerField(allow_null=True, help_text=_("The service period of trainings."))
    bundles = serializers.ListField(child=serializers.IntegerField(), help_text=_("Person-day bundles."))
    contracts = serializers.ListField(child=serializers.CharField(), help_text=_("Contract numbers."))


class TierSerializer(serializers.Serializer):
    up_to = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    unit_price = MoneySerializer()
    flat_fee = MoneySerializer()


class PriceSerializer(serializers.Serializer):
    rate_card = serializers.CharField(help_text=_("The rate card version in force, as code:version."))
    basis = serializers.CharField()
    unit_price = MoneySerializer(allow_null=True)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2)
    estimate = MoneySerializer(allow_null=True)
    tax_inclusive = serializers.BooleanField()
    vat_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text=_("VAT rate of the estimate, as a fraction."),
    )
    net = MoneySerializer(allow_null=True, help_text=_("The estimate without VAT."))
    vat = MoneySerializer(allow_null=True, help_text=_("The VAT of the estimate."))
    gross = MoneySerializer(allow_null=True, help_text=_("The estimate with VAT: what the invoice bills."))
    travel_at_cost = serializers.BooleanField()
    role = serializers.CharField(allow_blank=True)
    delivery_mode = serializers.CharField(allow_blank=True)
    tiers = TierSerializer(many=True)


class ProductCoverSerializer(serializers.Serializer):
    product = serializers.CharField()
    covered = serializers.BooleanField()
    contract = serializers.CharField(allow_null=True, help_text=_("The contract whose period covers it."))
    until = serializers.DateField(allow_null=True, help_text=_("The last day of that period."))


class BilingualNameSerializer(serializers.Serializer):
    """A name in both languages, keyed by language code."""

    def get_fields(self):
        return {"zh-hans": serializers.CharField(), "en": serializers.CharField()}

    def to_representation(self, row):
        return {"zh-hans": row.name_zh, "en": row.name_en}


class EscalationSerializer(serializers.Serializer):
    level = serializers.IntegerField(
        min_value=1,
        max_value=3,
        help_text=_(
            "The level that owns the ticket now: 1 local service specialist, 2 dedicated maintenance team, "
            "3 product and technical experts."
        ),
    )
    name = BilingualNameSerializer(source="current")
    next_level = serializers.IntegerField(
        allow_null=True, help_text=_("The level that takes the ticket over next; null at the last level.")
    )
    next_name = BilingualNameSerializer(source="next", allow_null=True)
    escalate_by = serializers.DateTimeField(
        allow_null=True,
        help_text=_(
            "When the next level takes the ticket over, in working time of the period's calendar counted "
            "from opened_at; null at the last level."
        ),
    )
    provisional = serializers.BooleanField(
        help_text=_(
            "True when a time used is the vendor's to confirm (the terms give none) or counts in a year "
            "whose holiday schedule is not published."
        )
    )


class TierBenefitSerializer(serializers.Serializer):
    """A service the tier brings, in both languages."""

    def get_fields(self):
        return {
            "code": serializers.CharField(),
            "zh-hans": serializers.CharField(),
            "en": serializers.CharField(),
            "vendor_to_confirm": serializers.BooleanField(
                help_text=_("The terms name the service but give no figures: the vendor is to confirm it.")
            ),
        }

    def to_representation(self, benefit):
        return {
            "code": benefit.code,
            "zh-hans": benefit.name_zh,
            "en": benefit.name_en,
            "vendor_to_confirm": benefit.vendor_to_confirm,
        }


class FeeOverdueSerializer(serializers.Serializer):
    invoice = serializers.CharField(
        help_text=_("The number of the invoice billing the covering period's fee.")
    )
    open_amount = MoneySerializer(help_text=_("What is still open on it on the day asked about."))
    due_date = serializers.DateField()
    days_overdue = serializers.IntegerField(
        help_text=_("Days past the due date: more than the grace days (FEE_OVERDUE_GRACE_DAYS).")
    )
    policy = serializers.ChoiceField(
        choices=FeeOverduePolicy.choices,
        help_text=_(
            "The tier's policy: warn keeps the outcome; suspend makes included and billable work "
            "needs_approval."
        ),
    )


class ChannelOpeningSerializer(serializers.Serializer):
    """The channel asked about at ``at``, by its opening hours in the catalogue."""

    code = serializers.CharField(help_text=_("The channel asked about, as the check's `channel` names it."))
    open = serializers.BooleanField(
        help_text=_(
            "Whether the channel takes requests at `at` (its opening hours; the holiday emergency line is "
            "told by `emergency`)."
        )
    )
    opens_next = serializers.DateTimeField(
        allow_null=True,
        help_text=_("When the channel next opens (Asia/Shanghai); null when it is open at `at`."),
    )


class DecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["included", "billable", "needs_approval", "not_covered"])
    reasons = ReasonSerializer(many=True)
    customer = serializers.CharField(source="customer.code")
    service = serializers.CharField(source="service.code")
    at = serializers.DateTimeField()
    contract = serializers.CharField(
        source="period.contract.number",
        allow_null=True,
        help_text=_("The contract whose service period answers (for a product: a contract that covers it)."),
    )
    period = PeriodSerializer(allow_null=True)
    respond_by = serializers.DateTimeField(allow_null=True)
    arrive_by = serializers.DateTimeField(allow_null=True)
    provisional = serializers.BooleanField()
    quota = QuotaSerializer(allow_null=True)
    price = PriceSerializer(allow_null=True)
    upgrade = serializers.CharField(allow_null=True)
    travel_at_cost = serializers.BooleanField()
    channel = ChannelOpeningSerializer(
        source="channel_opening",
        allow_null=True,
        help_text=_(
            "The channel asked about: open at `at` or when it opens next; null when no channel was given. "
            "A closed channel changes no outcome: the request is taken when it opens."
        ),
    )
    emergency = serializers.BooleanField(
        help_text=_("Answered by the holiday emergency phone line: respond_by counts on the emergency clock.")
    )
    products = ProductCoverSerializer(
        many=True,
        help_text=_(
            "For a check naming no product of a customer whose service periods come from more than one "
            "contract: each licensed product's own cover on the day (its contract and period end). The "
            "answer itself comes from the best period of any contract; when the products are covered "
            "differently, a reason `name_the_product` asks for the product. Empty when a product is named "
            "or when every period belongs to one contract (its products are then covered alike)."
        ),
    )
    escalation = EscalationSerializer(
        allow_null=True,
        help_text=_(
            "The three-level response (terms 1.7) for the ticket opened at opened_at: null without a "
            "severity or when the tier has no escalation levels for it."
        ),
    )
    tier_benefits = TierBenefitSerializer(
        many=True,
        help_text=_(
            "The services the covering period's tier brings (the strategic tier's expert resources etc.)."
        ),
    )
    fee_overdue = FeeOverdueSerializer(
        allow_null=True,
        help_text=_(
            "The invoice of the covering paid period's fee when it is overdue past the grace days with money "
            "open (reason fee_overdue); null otherwise."
        ),
    )


class ConsumeInput(serializers.Serializer):
    customer = TextInput(max_length=40)
    service = TextInput(max_length=60, help_text=_("customer-training, or a person-day service."))
    quantity = DecimalInput(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    ticket = TicketInput(max_length=100)
    at = serializers.DateTimeField(
        required=False,
        help_text=_(
            "When the use happened (ISO 8601); default now. It counts in the contract year of that day: a "
            "contract year that ended before today is closed (422 closed-contract-year), and a moment later "
            "than now by more than a few minutes of clock skew is refused (422 consumption-in-future)."
        ),
    )


class ConsumptionEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=9, decimal_places=2)
    used_on = serializers.DateField()
    ticket = serializers.CharField(source="ticket_ref")
    bundle = serializers.IntegerField(source="bundle_id", allow_null=True)
    period = serializers.IntegerField(source="period_id", allow_null=True)


class ConsumeOutput(serializers.Serializer):
    entries = ConsumptionEntrySerializer(many=True)
    quota = QuotaSerializer(allow_null=True)


class CorrectionInput(serializers.Serializer):
    customer = TextInput(
        max_length=40,
        help_text=_("The code of the customer whose use is corrected (a guard against a wrong id)."),
    )
    quantity = DecimalInput(
        max_digits=9,
        decimal_places=3,
        min_value=Decimal("0.001"),
        help_text=_(
            "How much of the use to give back: at most what is left of it after earlier corrections."
        ),
    )
    reason = TextInput(max_length=500, help_text=_("Why the use is given back."))


class CorrectionSerializer(ConsumptionEntrySerializer):
    corrects = serializers.IntegerField(source="corrects_id", help_text=_("The use this entry gives back."))
    reason = serializers.CharField()
    recorded_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class CorrectionOutput(serializers.Serializer):
    correction = CorrectionSerializer()
    left = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        help_text=_("What is left of the corrected use after this correction."),
    )
    quota = QuotaSerializer(allow_null=True)


class ChargeRequestInput(serializers.Serializer):
    customer = TextInput(max_length=40)
    ticket = TicketInput(max_length=100)
    description = TextInput(max_length=5000)
    estimated_person_days = DecimalInput(
        max_digits=8, decimal_places=2, required=False, allow_null=True, min_value=Decimal("0.01")
    )
    estimated_amount = DecimalInput(
        max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=Decimal(0)
    )
    currency = serializers.ChoiceField(choices=["CNY"], required=False, default="CNY")
    contract = TextInput(max_length=60, required=False, allow_blank=True)
    service = TextInput(max_length=60, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs.get("estimated_person_days") is None and attrs.get("estimated_amount") is None:
            raise serializers.ValidationError(
                {"estimated_person_days": [_("Give estimated person-days or an estimated amount.")]}
            )
        return attrs


class ChargeRequestEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChargeRequestEvent
        fields = ["status", "actor", "note", "at"]


class ChargeRequestSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.code")
    contract = serializers.CharField(source="contract.number", allow_null=True, default=None)
    ticket = serializers.CharField(source="ticket_ref")
    service = serializers.CharField(source="service_code")
    estimated_amount = MoneySerializer(allow_null=True)
    status = serializers.ChoiceField(choices=ChargeStatus.choices)
    events = ChargeRequestEventSerializer(many=True)

    class Meta:
        model = ChargeRequest
        fields = [
            "id",
            "customer",
            "contract",
            "ticket",
            "service",
            "description",
            "estimated_person_days",
            "estimated_amount",
            "status",
            "requested_by",
            "sent_to_customer_at",
            "customer_answered_at",
            "closed_at",
            "created_at",
            "events",
        ]


class CoverageSerializer(serializers.Serializer):
    customer = serializers.CharField()
    legal_name = serializers.CharField()
    covered = serializers.BooleanField()
    tier = serializers.CharField(allow_null=True)
    arrival_area = serializers.ChoiceField(choices=ArrivalArea.choices)
    periods = serializers.ListField(child=serializers.DictField())
    products = serializers.ListField(child=serializers.DictField())
    custom_modules = serializers.ListField(child=serializers.DictField())
    quotas = QuotaSerializer(many=True)


class ChargeRequestFilter(serializers.Serializer):
    """Query filters; an empty one (``?ticket=``) filters nothing, as the schema says."""

    customer = serializers.CharField(max_length=40, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ChargeStatus.choices, required=False, allow_blank=True)
    ticket = serializers.CharField(max_length=100, required=False, allow_blank=True)
