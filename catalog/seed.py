"""The vendor's catalogue as its service terms state it (seed/service-terms.zh.txt), plus example prices.

``manage.py load_catalog`` loads this; rows that exist are left as they are, so edits made in the admin
survive a reload.
"""

import datetime
from decimal import Decimal

STD, VAS, ONS = "standard", "value_added", "on_site"

PRODUCTS = [
    ("KMS", "蓝凌知识管理系统 KMS", "Landray KMS knowledge management"),
    ("EIS", "蓝凌企业信息系统 EIS", "Landray EIS enterprise information system"),
    ("KK", "蓝凌即时通讯 KK", "Landray KK instant messaging"),
]

# (product, version, released on). Only a released version is an upgrade target (the terms count upgrades
# from the R&D centre's releases); the dates are the demo's, for the vendor to replace with its own.
PRODUCT_VERSIONS = [
    ("KMS", "8.4.0", datetime.date(2023, 8, 18)),
    ("KMS", "8.5.2", datetime.date(2024, 3, 15)),
    ("KMS", "8.5.3", datetime.date(2024, 11, 22)),
    ("KMS", "8.6.0", datetime.date(2025, 6, 20)),
    ("KMS", "9.0.0", datetime.date(2026, 1, 16)),
    ("EIS", "5.2.0", datetime.date(2024, 5, 24)),
    ("KK", "6.1.0", datetime.date(2025, 3, 28)),
]

TAX_CATEGORIES = [
    ("services", "现代服务", "Services"),
    ("software", "软件产品", "Software"),
]

# (category, rate, valid from): 6% for modern services since the 2016 VAT reform; software went from
# 16% to 13% on 2019-04-01.
VAT_RATES = [
    ("services", Decimal("0.06"), datetime.date(2016, 5, 1)),
    ("software", Decimal("0.16"), datetime.date(2018, 5, 1)),
    ("software", Decimal("0.13"), datetime.date(2019, 4, 1)),
]

# The vendor as a small-scale taxpayer (settings.VENDOR_TAXPAYER_KIND): 3%, reduced to 1% from 2023 until
# the end of 2027 (to be confirmed by the vendor's tax adviser; ../einvoice/README.md).
SMALL_SCALE_VAT_RATES = [
    (category, rate, valid_from)
    for category, _name_zh, _name_en in TAX_CATEGORIES
    for rate, valid_from in (
        (Decimal("0.03"), datetime.date(2016, 5, 1)),
        (Decimal("0.01"), datetime.date(2023, 1, 1)),
        (Decimal("0.03"), datetime.date(2028, 1, 1)),
    )
]

# The tax bureau's classification codes (商品和服务税收编码) the catalogue uses, with their parents, which
# the e-invoice platform refuses: (code, name, leaf).
TAX_CODES = [
    ("1060301000000000000", "应用软件", False),
    ("1060301020000000000", "通用应用软件", False),
    ("1060301020100000000", "通用应用软件", True),
    ("3040200000000000000", "信息技术服务", False),
    ("3040201000000000000", "软件服务", False),
    ("3040201010000000000", "软件开发服务", True),
    ("3040201020000000000", "软件咨询服务", True),
    ("3040201030000000000", "软件维护服务", True),
    ("3040203000000000000", "信息系统服务", True),
    ("3040205000000000000", "信息系统增值服务", True),
    ("3070200000000000000", "教育服务", False),
    ("3070201000000000000", "教育服务", False),
    ("3070201020000000000", "非学历教育服务", True),
]
MAINTENANCE = ("3040201030000000000", "软件维护费")
TRAINING = ("3070201020000000000", "培训费")
# service code -> (tax classification code, 项目名称 on the fapiao); every other service is maintenance.
SERVICE_TAX_CODES = {
    "customer-training": TRAINING,
    "kms-course": TRAINING,
    "product-training": TRAINING,
    "kms-certification": TRAINING,
    "custom-development": ("3040201010000000000", "软件开发服务费"),
    "requirements-analysis": ("3040201020000000000", "软件咨询服务费"),
    "data-migration": ("3040205000000000000", "数据迁移服务费"),
    "architecture-optimisation": ("3040203000000000000", "信息系统服务费"),
    "system-rollout": ("3040203000000000000", "信息系统服务费"),
    "org-restructure": ("3040203000000000000", "信息系统服务费"),
}

GROUPS = [
    ("maintenance", "运维支持服务", "Maintenance and support"),
    ("training", "培训服务", "Training"),
    ("system-hardening", "系统加固服务", "System hardening"),
    ("advanced-training", "培训进阶服务", "Advanced training"),
    ("business-change", "业务变更护航服务", "Business change support"),
    ("system-potential", "系统挖潜服务", "System potential"),
    ("on-site", "上门现场服务", "On-site service"),
]

# code, kind, group, basis, alternative basis, zh name, en name, zh description, en description,
# zh note, en note
SERVICES = [
    # 附表一: standard service
    (
        "site-support",
        STD,
        "maintenance",
        "included",
        "",
        "服务网站支持",
        "Service site support",
        "处理客户通过服务网站提交的问题;提供FAQ库、案例库等自助服务;通过意见反馈系统收集优化与需求建议。",
        "Questions submitted through the service site; self-service FAQ and case library; feedback and "
        "feature suggestions.",
        "",
        "",
    ),
    (
        "hotline",
        STD,
        "maintenance",
        "included",
        "",
        "400热线服务支持",
        "400 hotline support",
        "400热线由专人受理,解答蓝凌软件产品使用与维护问题。",
        "A staffed 400 hotline answers questions on using and maintaining the products.",
        "",
        "",
    ),
    (
        "remote-maintenance",
        STD,
        "maintenance",
        "included",
        "",
        "远程维护支持",
        "Remote maintenance",
        "通过网络软件工具(例如远程桌面控制)提供远程系统维护支持。",
        "System maintenance through remote desktop tools.",
        "",
        "",
    ),
    (
        "online-support",
        STD,
        "maintenance",
        "included",
        "",
        "服务热线、邮件、即时通讯支持",
        "Phone, e-mail and instant-messaging support",
        "服务专员通过服务热线、邮件、即时通讯等多种方式提供服务。",
        "Service staff answer by phone, e-mail and instant messaging.",
        "",
        "",
    ),
    (
        "standard-response",
        STD,
        "maintenance",
        "included",
        "",
        "标准支持响应",
        "Standard response",
        "标准服务问题响应时间5天*8小时,法定工作日,每天8:30~17:30。",
        "Response on a 5x8 basis: statutory working days, 8:30-17:30.",
        "",
        "",
    ),
    (
        "install-config",
        STD,
        "maintenance",
        "included",
        "",
        "产品安装、配置咨询支持",
        "Installation and configuration advice",
        "提供产品安装、配置的咨询服务;提供参考备份方案;处理系统应用配置类问题。",
        "Advice on installation and configuration, a reference backup plan, configuration problems.",
        "",
        "",
    ),
    (
        "upgrade",
        STD,
        "maintenance",
        "included",
        "",
        "版本升级服务",
        "Version upgrades",
        "服务期内免费提供同系列产品的小、中版本升级服务(不包含定制模块);大版本升级需另签升级服务合同。",
        "Minor and medium upgrades of the same product line are free during the service period (custom "
        "modules excluded); a major upgrade needs a separate upgrade contract.",
        "",
        "",
    ),
    (
        "fault-diagnosis",
        STD,
        "maintenance",
        "included",
        "",
        "系统故障排除",
        "Fault diagnosis",
        "诊断并排除蓝凌软件产品系统故障。",
        "Diagnosing and clearing faults of the products.",
        "",
        "",
    ),
    (
        "defect-fix",
        STD,
        "maintenance",
        "included",
        "",
        "系统缺陷修复",
        "Defect fixing",
        "修订蓝凌软件产品系统缺陷;bug响应修正。",
        "Fixing product defects; responding to and correcting bugs.",
        "",
        "",
    ),
    (
        "media-replacement",
        STD,
        "maintenance",
        "included",
        "",
        "介质更换服务",
        "Media replacement",
        "产品盘损坏、丢失更换;软件补丁盘通知、寄送;操作手册(纸质或电子文档)通知、寄送。",
        "Replacing damaged or lost installation media; sending patch media and manuals (print or "
        "electronic).",
        "",
        "",
    ),
    (
        "holiday-theme",
        STD,
        "maintenance",
        "included",
        "",
        "节日主题包服务",
        "Holiday theme packs",
        "提供节庆日系统主页及登录页主题资源包。",
        "Home and login page theme packs for festivals.",
        "",
        "",
    ),
    (
        "customer-training",
        STD,
        "training",
        "included",
        "",
        "老客户培训交流",
        "Customer training sessions",
        "每年1至2次老客户培训交流活动,介绍产品新功能及解决方案、常见问题处理、客户案例。",
        "One or two training sessions a year on new features, solutions, common problems and customer cases.",
        "培训中涉及的差旅费用由客户自行承担",
        "Travel for trainings is at the customer's cost",
    ),
    # 附表二: value-added services
    (
        "health-check",
        VAS,
        "system-hardening",
        "fixed",
        "per_person_day",
        "专业健康诊断",
        "Professional health diagnosis",
        "系统全面排查,定位隐患;远程或现场检查系统性能、系统日志与错误日志,提出调优建议并提交系统检查报告。",
        "A full check of the system, remote or on site: performance, logs and error logs, tuning advice and a "
        "written report.",
        "免费送AGP一年使用许可",
        "Includes a free one-year AGP licence",
    ),
    (
        "data-migration",
        VAS,
        "system-hardening",
        "per_data_volume",
        "per_person_day",
        "数据迁移服务",
        "Data migration",
        "KMS数据量过大需要归档,或将老系统、异构系统数据迁移到KMS平台:迁移规划与实施、数据准确度校对。",
        "Archiving large KMS data or migrating old and foreign systems to KMS: planning, execution and "
        "accuracy checks.",
        "按数据量或人天收费",
        "Priced by data volume or per person-day",
    ),
    (
        "architecture-optimisation",
        VAS,
        "system-hardening",
        "per_person_day",
        "",
        "架构优化服务",
        "Architecture optimisation",
        "新增或更换服务器、变更服务器和网络架构时的方案规划与实施。",
        "Planning and carrying out new servers and changes to server and network architecture.",
        "按人天收费",
        "Priced per person-day",
    ),
    (
        "kms-course",
        VAS,
        "advanced-training",
        "per_course",
        "per_person",
        "KMS SA / KMS DEV 培训",
        "KMS SA / KMS DEV courses",
        "KMS安装、部署与配置、控件维护、日常运维;高级课程包括公式定义器、数据库优化、集群、多机构组织架构配置与维护。",
        "Installing, deploying and configuring KMS, controls and daily operation; advanced courses on the "
        "formula editor, database tuning, clusters and multi-organisation set-ups.",
        "可选现场培训或南昌培训",
        "On site or at the Nanchang training centre",
    ),
    (
        "product-training",
        VAS,
        "advanced-training",
        "per_course",
        "per_person",
        "产品专业培训",
        "Product professional training",
        "针对新高管上任、批量新员工入职时的专业培训。",
        "Training for new executives or large groups of new staff.",
        "可包括考试和证书",
        "Optional exam and certificate",
    ),
    (
        "kms-certification",
        VAS,
        "advanced-training",
        "per_person",
        "",
        "KMS证书认证",
        "KMS certification",
        "KMS平台管理员认证,通过考核后颁发工信部认证的“知识管理系统工程师”证书(有效期2年)。",
        "KMS administrator certification: the ministry-recognised knowledge management engineer certificate, "
        "valid two years.",
        "包括蓝凌颁发的证书、工信部颁发的证书",
        "Vendor certificate and ministry certificate",
    ),
    (
        "org-restructure",
        VAS,
        "business-change",
        "per_data_volume",
        "per_person_day",
        "组织架构调整服务",
        "Organisation restructuring",
        "应对组织架构变更:迁移组织架构、流程实例、模板、数据权限;提供迁移方案、服务报告和现场服务。",
        "Migrating organisation structure, workflow instances, templates and data permissions, with a "
        "migration plan, report and on-site support.",
        "按迁移量或人天收费",
        "Priced by migration volume or per person-day",
    ),
    (
        "requirements-analysis",
        VAS,
        "system-potential",
        "per_person_day",
        "",
        "复杂需求分析服务",
        "Complex requirements analysis",
        "需求调研与分析,输出软件需求说明书,完成后可直接交予外包公司开发。",
        "Requirements research and analysis, delivering a software requirements specification.",
        "",
        "",
    ),
    (
        "custom-development",
        VAS,
        "system-potential",
        "per_person_day",
        "",
        "定制开发服务",
        "Custom development",
        "快速响应客户新需求:需求调研、工作量评估、定制开发。",
        "New features on request: requirements, effort estimate and development.",
        "一般为小规模,按人天付费",
        "Usually small, priced per person-day",
    ),
    (
        "system-rollout",
        VAS,
        "system-potential",
        "per_person_day",
        "",
        "系统推广服务",
        "System rollout",
        "系统向下属企业推广或启用重要新模块时的方案策划、协助实施。",
        "Planning and support for rolling out to subsidiaries or enabling major new modules.",
        "按人天付费",
        "Priced per person-day",
    ),
    (
        "upgrade-contract",
        VAS,
        "maintenance",
        "fixed",
        "",
        "大版本升级服务合同",
        "Major upgrade contract",
        "大版本升级需要通过商务另洽谈升级服务合同;按产品和目标大版本计价。",
        "A major upgrade needs a separate upgrade contract, priced per product and target major version.",
        "",
        "",
    ),
    # Paid on-site visits
    (
        "on-site-service",
        ONS,
        "on-site",
        "per_person_day",
        "",
        "上门现场服务",
        "On-site service",
        "应客户要求提供的有偿现场服务:市内48小时内到达,市郊或外地3个工作日内到达。",
        "Paid on-site work on request: in the city within 48 hours, suburbs or other cities within 3 working "
        "days.",
        "客户承担差旅及住宿费用",
        "Travel and lodging at the customer's cost",
    ),
]

# code, zh, en, weekday windows
CALENDARS = [
    (
        "5x8",
        "5x8 工作日",
        "5x8 working days",
        True,
        [(d, datetime.time(8, 30), datetime.time(12, 0)) for d in range(5)]
        + [(d, datetime.time(13, 0), datetime.time(17, 30)) for d in range(5)],
    ),
    (
        "7x24",
        "7x24 全天候",
        "7x24 around the clock",
        False,
        [(d, datetime.time(0, 0), datetime.time(0, 0)) for d in range(7)],
    ),
    # The channels' opening hours (1.9 服务时间): the 400 hotline and on-site working time.
    (
        "hotline",
        "400热线服务时间",
        "400 hotline hours",
        True,
        [(d, datetime.time(9, 0), datetime.time(12, 0)) for d in range(5)]
        + [(d, datetime.time(13, 0), datetime.time(18, 0)) for d in range(5)],
    ),
    (
        "on-site",
        "现场工作时间",
        "On-site working time",
        True,
        [(d, datetime.time(9, 0), datetime.time(18, 0)) for d in range(5)],
    ),
]

# channel: the calendar of its opening hours. The community takes requests at any time (they are handled on
# the period's 5x8 clock); the terms give no hours for e-mail, IM and remote: seeded with the 5x8 hours.
CHANNEL_HOURS = {
    "community": "7x24",
    "hotline": "hotline",
    "email": "5x8",
    "im": "5x8",
    "remote": "5x8",
    "on-site": "on-site",
}

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争胜利70周年纪念日",
}

# Years seeded from chinese-calendar, which knows nothing after 2026.
SEEDED_HOLIDAY_YEARS = (2025, 2026)

TIERS = [
    (
        "standard",
        "标准服务",
        "Standard service",
        "5x8",
        0,
        "服务有效期内的标准服务:5x8响应,按附表三的响应时间上限。",
        "Standard service during the service period: 5x8 response within the upper bounds of the terms.",
    ),
    (
        "strategic",
        "战略合作服务",
        "Strategic partnership",
        "5x8",
        1,
        "专家资源、升级响应服务、服务资源优先。",
        "Expert resources, upgrade response and priority on service resources.",
    ),
]

# The terms promise emergency phone support on statutory holidays (国家法定节假日: 提供紧急服务电话支持): the
# emergency line answers on this clock, for these levels (the terms name the outage; the vendor may add more).
EMERGENCY_CALENDAR = "7x24"
EMERGENCY_LEVELS = ("1",)

# The terms give no rule for an unpaid fee: the vendor's choice, per tier (catalog.FeeOverduePolicy). A standard
# customer whose paid period's fee is overdue past grace is asked for approval (the account manager decides);
# the strategic partner keeps its cover with a warning, as the partnership is handled by its account team.
FEE_OVERDUE_POLICIES = {"standard": "suspend", "strategic": "warn"}

# tier, level, working hours, on site within (hours), zh handling, en handling
RESPONSE_TARGETS = [
    (
        "standard",
        "1",
        Decimal(1),
        24,
        "立即召开技术协调会;远程不能解决时24小时内到达现场",
        "Immediate technical meeting; on site within 24 h when remote work fails",
    ),
    ("standard", "2", Decimal(8), None, "电话指导、远程解决或到现场解决", "Phone, remote or on site"),
    (
        "standard",
        "3",
        Decimal(12),
        None,
        "电话指导;解决不了的提交书面报告后到现场",
        "Phone; on site after a written report",
    ),
    ("standard", "4", Decimal(16), None, "电话指导", "Phone"),
    (
        "standard",
        "non-fault",
        Decimal(24),
        None,
        "功能建议收集评审;功能变更通过付费定制实现",
        "Suggestions reviewed; changes only as paid custom work",
    ),
    (
        "strategic",
        "1",
        Decimal("0.5"),
        12,
        "专家资源优先;远程不能解决时12小时内到达现场",
        "Experts first; on site within 12 h when remote work fails",
    ),
    (
        "strategic",
        "2",
        Decimal(4),
        None,
        "专家资源优先:电话、远程或到现场",
        "Experts first: phone, remote or on site",
    ),
    ("strategic", "3", Decimal(8), None, "电话指导;必要时到现场", "Phone; on site when needed"),
    ("strategic", "4", Decimal(8), None, "电话指导", "Phone"),
    ("strategic", "non-fault", Decimal(16), None, "功能建议优先评审", "Suggestions reviewed first"),
]

# The terms (1.3) name the strategic partnership's services but give no figures: its response targets
# above are the vendor's to confirm.
TIERS_TO_CONFIRM = ("strategic",)

# The terms' three-level response (1.7): level, zh name, en name.
ESCALATION_NAMES = [
    (1, "本地服务专员", "Local service specialist"),
    (2, "专职维护团队", "Dedicated maintenance team"),
    (3, "产品和技术专家", "Product and technical experts"),
]

# tier, problem level, working hours after opening at which the ticket passes to the maintenance team and
# to the experts. The terms say only "within a set time" (在规定的时间内): every figure is the vendor's to
# confirm. Each lies after the level's response time; the strategic tier escalates sooner.
ESCALATION_HOURS = [
    ("standard", "1", Decimal(2), Decimal(4)),
    ("standard", "2", Decimal(12), Decimal(24)),
    ("standard", "3", Decimal(16), Decimal(32)),
    ("standard", "4", Decimal(24), Decimal(48)),
    ("standard", "non-fault", Decimal(40), Decimal(80)),
    ("strategic", "1", Decimal(1), Decimal(2)),
    ("strategic", "2", Decimal(6), Decimal(12)),
    ("strategic", "3", Decimal(12), Decimal(24)),
    ("strategic", "4", Decimal(12), Decimal(24)),
    ("strategic", "non-fault", Decimal(24), Decimal(48)),
]

# tier, code, zh name, en name, zh description, en description: the strategic partnership's services as the
# terms name them (1.3); what each brings is the vendor's to confirm.
TIER_BENEFITS = [
    (
        "strategic",
        "expert-resources",
        "专家资源",
        "Expert resources",
        "产品和技术专家参与问题处理。",
        "Product and technical experts take part in handling problems.",
    ),
    (
        "strategic",
        "escalated-response",
        "升级响应服务",
        "Escalated response service",
        "问题更早升级到专职维护团队和产品技术专家。",
        "Problems pass sooner to the dedicated maintenance team and the product and technical experts.",
    ),
    (
        "strategic",
        "resource-priority",
        "服务资源优先",
        "Priority of service resources",
        "服务资源优先安排。",
        "Service resources are assigned first.",
    ),
]

# tier, area, amount, unit
ARRIVAL_COMMITMENTS = [
    ("standard", "same_city", 48, "hours"),
    ("standard", "elsewhere", 3, "working_days"),
    ("strategic", "same_city", 24, "hours"),
    ("strategic", "elsewhere", 2, "working_days"),
]

# Example list prices (CNY, VAT included), version 1 from 2025-01-01.
RATE_CARD = (
    "list",
    1,
    datetime.date(2025, 1, 1),
    "示例价目表(请按实际价格修改)",
)

# role: (remote, on site)
PERSON_DAY_RATES = {
    "engineer": (Decimal(1800), Decimal(2400)),
    "senior_engineer": (Decimal(2500), Decimal(3200)),
    "architect": (Decimal(3500), Decimal(4500)),
    "project_manager": (Decimal(3000), Decimal(3800)),
    "trainer": (Decimal(2200), Decimal(2800)),
}

# service, basis, price
UNIT_PRICES = [
    ("health-check", "fixed", Decimal(25000)),
    ("kms-course", "per_course", Decimal(30000)),
    ("kms-course", "per_person", Decimal(3000)),
    ("product-training", "per_course", Decimal(20000)),
    ("product-training", "per_person", Decimal(2000)),
    ("kms-certification", "per_person", Decimal(4800)),
]

# Upgrade contracts (升级服务合同) to the products' next majors: product, target major, price, tax category.
# The terms leave the figure to a separate negotiation (商务另洽谈): these are examples for the vendor to
# confirm, as is the tax category (software: the contract licenses the new major version).
UPGRADE_PRICES = [
    ("KMS", 9, Decimal(120000), "software"),
    ("EIS", 6, Decimal(80000), "software"),
    ("KK", 7, Decimal(30000), "software"),
]

# service, model, unit, package size, [(up to, unit price, flat fee)]
DATA_VOLUME_PRICES = [
    (
        "data-migration",
        "graduated",
        "GB",
        None,
        [
            (Decimal(100), Decimal(200), Decimal(0)),
            (Decimal(500), Decimal(150), Decimal(0)),
            (None, Decimal(100), Decimal(0)),
        ],
    ),
    (
        "org-restructure",
        "volume",
        "k_records",
        None,
        [
            (Decimal(50), Decimal(120), Decimal(2000)),
            (Decimal(200), Decimal(90), Decimal(2000)),
            (None, Decimal(60), Decimal(2000)),
        ],
    ),
]

TRAVEL_POLICY = (
    Decimal(500),
    Decimal(100),
    "交通、住宿按实际发生额实报实销,不加价不打折;住宿每晚不超过上限。",
    "Transport and lodging re-invoiced at cost, never marked up or discounted; lodging up to the "
    "nightly cap.",
)
